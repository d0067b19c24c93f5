module github.com/tajo-sync/tajo/services/loader

go 1.26
