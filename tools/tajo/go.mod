module github.com/tajo-sync/tajo/tools/tajo

go 1.26
