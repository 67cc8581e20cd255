package qa_test

import (
	"strings"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/commerce"
	"aftersale/internal/policy"
	"aftersale/internal/qa"
	"aftersale/internal/task"
)

func rules(t *testing.T) *policy.QARules {
	t.Helper()
	reg, err := policy.Default()
	if err != nil {
		t.Fatal(err)
	}
	r, err := reg.At(commerce.Taobao, time.Date(2023, 8, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return &r.QA
}

// R-QA-4: the default policy's judgment of questions, zh-CN examples,
// with the min_length boundary (4 characters invalid, 5 valid) and each
// invalid question's reason in both languages.
func TestCheck_R_QA_4(t *testing.T) {
	r := rules(t)
	for _, c := range []struct{ text, code string }{
		{"好用吗？", "too_short"},
		{"好用吗？！", ""},
		{"　好 用 吗　", "too_short"}, // ideographic and ASCII spaces do not count
		{"请问这款和上一代有什么区别？", ""},
		{"发我手机13912345678看看实物", "phone"},
		{"电话 139 1234 5678", "phone"},
		{"快递单号9139123456780001查不到", ""}, // 1[3-9]… inside a longer number is no phone
		{"有 WeChat 吗？私聊", "contact"},
		{"QQ：12345678 详谈", "contact"},
		{"qq音乐会员能用吗？", ""},
		{"去 http://t.cn/abc 看看", "link"},
		{"同款 ｗｗｗ．ｘｙｚ．ｃｏｍ 更便宜", "link"},
		{"招代理，一件代发", "advertising"},
		{"能用店铺优惠券吗？", ""},
	} {
		got := qa.Check(c.text, r)
		switch {
		case c.code == "" && got != nil:
			t.Errorf("%q judged invalid: %+v", c.text, got)
		case c.code != "" && (got == nil || got.Code != c.code || got.Rule != "R-QA-4" || got.ZH == "" || got.EN == ""):
			t.Errorf("%q: %+v, want %s", c.text, got, c.code)
		}
	}
	if got := qa.Check("加我 138-1234-5678 详聊", r); got == nil || got.Match == "" {
		t.Errorf("the match is recorded: %+v", got)
	}
}

// R-QA-4: the input bound (max_length 200) is a refusal naming the field,
// not an invalid question; exactly 200 passes.
func TestCheckText_Bounds(t *testing.T) {
	r := rules(t)
	if err := qa.CheckText("text", "R-QA-4", strings.Repeat("问", 200), r); err != nil {
		t.Fatalf("200: %v", err)
	}
	for _, s := range []string{"", " \n", strings.Repeat("问", 201)} {
		ae, ok := apperr.As(qa.CheckText("text", "R-QA-4", s, r))
		if !ok || ae.Code != apperr.EINVALID || ae.Field != "text" || ae.Rule != "R-QA-4" {
			t.Errorf("%d runes: %v", len([]rune(s)), ae)
		}
	}
}

// R-QA-3: "more than 1 day", judged to the second: due at 1 day + 1 s.
func TestSuggestAt_R_QA_3(t *testing.T) {
	asked := time.Date(2023, 8, 1, 6, 0, 0, 0, time.UTC)
	if got, want := qa.SuggestAt(asked, rules(t)), asked.Add(24*time.Hour+time.Second); !got.Equal(want) {
		t.Fatalf("suggest at %s, want %s", got, want)
	}
}

// R-QA-2 and R-QA-4: who may answer.
func TestMayAnswer_R_QA_2(t *testing.T) {
	q := &qa.Question{ID: "q1", ShopID: "s", Valid: true}
	ok := []struct {
		a       task.Actor
		invited bool
		by      string
	}{
		{task.Actor{Role: task.RoleShopMain, ID: "s_main"}, false, qa.ByShop},
		{task.Actor{Role: task.RoleBuyer, ID: "b1"}, true, qa.ByBuyer},
	}
	for _, c := range ok {
		if by, err := qa.MayAnswer(q, c.a, "s_main", c.invited); err != nil || by != c.by {
			t.Errorf("%+v: %q %v", c.a, by, err)
		}
	}
	for _, c := range []struct {
		a      task.Actor
		reason string
	}{
		{task.Actor{Role: task.RoleShopSub, ID: "s_sub"}, "qa.not_main_account"},
		{task.Actor{Role: task.RoleShopMain, ID: "other_main"}, "qa.not_main_account"},
		{task.Actor{Role: task.RoleBuyer, ID: "b2"}, "qa.not_invited"},
		{task.Actor{Role: task.RoleAgent, ID: "a1"}, "qa.not_invited"},
	} {
		_, err := qa.MayAnswer(q, c.a, "s_main", false)
		if ae, _ := apperr.As(err); ae == nil || ae.Code != apperr.EFORBIDDEN || ae.Rule != "R-QA-2" || ae.Reason != c.reason {
			t.Errorf("%+v: %v", c.a, err)
		}
	}
	bad := &qa.Question{ID: "q2", Valid: false, Invalid: &qa.Invalidity{Code: "phone"}}
	_, err := qa.MayAnswer(bad, task.Actor{Role: task.RoleShopMain, ID: "s_main"}, "s_main", false)
	if ae, _ := apperr.As(err); ae == nil || ae.Rule != "R-QA-4" || ae.Reason != "qa.question_invalid" {
		t.Errorf("invalid question: %v", err)
	}
}
