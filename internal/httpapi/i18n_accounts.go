package httpapi

// Titles of the problems of people, sessions and permissions.
func init() {
	for r, t := range map[string]title{
		"permission.denied":      {"当前角色无权执行此操作", "Your role may not do this"},
		"actor.mismatch":         {"登录用户只能以本人身份操作", "A signed-in person acts only as themselves"},
		"auth.csrf":              {"缺少或错误的 CSRF 令牌", "Missing or wrong CSRF token"},
		"auth.login_failed":      {"账号或密码错误", "Wrong login or password"},
		"auth.throttled":         {"该地址登录失败次数过多，请稍后再试", "Too many failed sign-ins from your address; try again later"},
		"auth.busy":              {"当前验证密码的请求过多，请稍后重试", "Too many passwords are being checked; try again shortly"},
		"auth.session_expired":   {"登录已过期，请重新登录", "The session has expired; sign in again"},
		"session.none":           {"当前凭证不是登录会话", "These credentials are not a session"},
		"login.invalid":          {"登录名格式不正确", "Invalid login name"},
		"password.length":        {"密码长度不符合要求", "Password length out of bounds"},
		"password.current_wrong": {"当前密码不正确", "The current password is wrong"},
		"password.unchanged":     {"新密码不能与当前密码相同", "The new password is the current one"},
		"person.login_taken":     {"登录名已被使用", "The login is taken"},
		"person.subject_taken":   {"该身份已有登录账号", "This subject already has a login"},
		"person.exists":          {"用户已存在", "The person already exists"},
		"account.exists":         {"账号已存在", "The account already exists"},
		// With sessions, these say "credentials" rather than "API key".
		"auth.missing": {"缺少身份凭证（API 密钥或登录会话）", "Credentials required (an API key or a session)"},
		"auth.invalid": {"API 密钥或登录会话无效", "Invalid API key or session token"},
	} {
		titles[r] = t
	}
}
