package console

// routesAccount serves the person's own account page (账号设置): who they
// are and the form that changes their password through the API
// (PUT /v1/me/password, sent by console.js with the session's CSRF token;
// the console keeps no second path to credentials).
func (c *Console) routesAccount() {
	c.mux.HandleFunc("GET "+Prefix+"/account", c.page("account", c.accountPage))
}

// accountPage shows the signed-in person (page sends others to sign in).
func (c *Console) accountPage(q *req) (string, any, error) {
	return "account", q.p.Person, nil
}
