module github.com/huiyin/huiyin

go 1.26.8

require (
	github.com/yanyiwu/gojieba v1.4.7 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
