package knowledge_test

import (
	"context"
	"testing"

	"github.com/huiyin/huiyin/knowledge"
)

// BenchmarkShipped measures retrieval (hybrid search), ask and draft
// offline on the shipped knowledge base in the dev database.
// Run: go test ./knowledge -run '^$' -bench Shipped -benchtime 200x
func BenchmarkShipped(b *testing.B) {
	s := newShipped(b)
	ctx := context.Background()
	questions := []string{"管理费能不能用微信付", "电子发票在哪里申请", "装修可以几点开始施工", "狗狗在小区里要拴绳吗", "物业能因为欠费停水停电吗"}
	messages := []string{"3栋2单元1502电梯困人了，快来！", "楼上每天半夜拖椅子，说了三次了", "东门的路灯坏了一个星期了"}
	run := map[string]func(i int) error{
		"search": func(i int) error {
			_, err := s.retriever.Search(ctx, knowledge.Query{Text: questions[i%len(questions)], K: 5})
			return err
		},
		"ask": func(i int) error {
			_, err := s.assistant.Ask(ctx, questions[i%len(questions)], now)
			return err
		},
		"draft": func(i int) error {
			_, err := s.assistant.Draft(ctx, messages[i%len(messages)], now)
			return err
		},
	}
	for _, name := range []string{"search", "ask", "draft"} {
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if err := run[name](i); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
