module github.com/tajo-sync/tajo/services/transformer

go 1.26
