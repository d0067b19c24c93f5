module github.com/tajo-sync/tajo/services/extractor

go 1.26
