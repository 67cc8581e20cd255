package httpapi

// Titles of the problems of the connection layer (transport.go).
func init() {
	for reason, t := range map[string]title{
		"request.timeout": {"请求体未在时限内收到", "Request body not received in time"},
	} {
		titles[reason] = t
	}
}
