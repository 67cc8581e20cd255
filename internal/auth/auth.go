// Package auth holds the identities of the people who sign in to aftersale
// (buyers, shop main and sub-accounts, agents, operators), their password
// hashes (argon2id, PHC strings), their sessions, and the permission table
// that says which role may do what (permissions.go). It is pure: the store
// keeps people and sessions, the engine writes them, the HTTP layer asks.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/task"
)

// Role is what a person is.
type Role string

// Roles of people.
const (
	RoleBuyer    Role = "buyer"
	RoleShopMain Role = "shop_main" // a shop's main account (主账号)
	RoleShopSub  Role = "shop_sub"  // a shop's sub-account (子账号); task work needs platform_task (R-ACC-1)
	RoleAgent    Role = "agent"     // platform customer service (小二)
	RoleOperator Role = "operator"  // runs the service: sandbox clock, reads, people
)

// Roles lists every role, in the order of the permission table's columns.
var Roles = []Role{RoleBuyer, RoleShopMain, RoleShopSub, RoleAgent, RoleOperator}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	for _, x := range Roles {
		if x == r {
			return true
		}
	}
	return false
}

// Shop reports whether r is a shop account role.
func (r Role) Shop() bool { return r == RoleShopMain || r == RoleShopSub }

// Person is someone who signs in: a login, a password hash and the subject
// they are in the domain (a buyer id, a shop account id, an agent id; an
// operator's subject is the person id).
type Person struct {
	ID           string    `json:"id"`
	Login        string    `json:"login"`
	Name         string    `json:"name,omitempty"`
	Role         Role      `json:"role"`
	SubjectID    string    `json:"subject_id"`
	ShopID       string    `json:"shop_id,omitempty"` // shop roles
	PasswordHash string    `json:"password_hash"`     // argon2id PHC string
	CreatedAt    time.Time `json:"created_at"`
	CreatedBy    string    `json:"created_by,omitempty"` // who made the login: "operator:…", "shop_main:…", "key:…"
	// PasswordChangedAt is when the password was last changed or reset
	// (nil: never since the login was made).
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
}

// Actor is the domain actor the person acts as; ok is false for operators,
// who take no task actions.
func (p *Person) Actor() (task.Actor, bool) {
	switch p.Role {
	case RoleBuyer:
		return task.Actor{Role: task.RoleBuyer, ID: p.SubjectID}, true
	case RoleShopMain:
		return task.Actor{Role: task.RoleShopMain, ID: p.SubjectID}, true
	case RoleShopSub:
		return task.Actor{Role: task.RoleShopSub, ID: p.SubjectID}, true
	case RoleAgent:
		return task.Actor{Role: task.RoleAgent, ID: p.SubjectID}, true
	}
	return task.Actor{}, false
}

// NormalizeLogin folds a login name to its stored form (trimmed, lower
// case) and checks it: 3 to 64 characters of a–z, 0–9, '.', '_', '-', '@'.
func NormalizeLogin(s string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if len(l) < 3 || len(l) > 64 {
		return "", apperr.New(apperr.EINVALID, "login.invalid", "login", "", "a login has 3 to 64 characters; got %d", len(l))
	}
	for _, c := range l {
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@'
		if !ok {
			return "", apperr.New(apperr.EINVALID, "login.invalid", "login", "", "a login uses a-z, 0-9, '.', '_', '-' and '@'; got %q", c)
		}
	}
	return l, nil
}

// Session is a signed-in person's session as the store keeps it: the
// SHA-256 of its token (never the token), when it began, when it was last
// used, when it ends at the latest, and its CSRF token.
type Session struct {
	ID        string    `json:"id"` // hex SHA-256 of the bearer/cookie token
	PersonID  string    `json:"person_id"`
	CSRF      string    `json:"csrf"` // not a credential on its own: it must come with the cookie
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	ExpiresAt time.Time `json:"expires_at"` // absolute end: CreatedAt + the absolute lifetime
}

// Lifetimes bound sessions: Idle after the last use, Absolute after sign-in.
type Lifetimes struct {
	Idle     time.Duration
	Absolute time.Duration
}

// DefaultLifetimes: 30 minutes idle, 12 hours at most.
var DefaultLifetimes = Lifetimes{Idle: 30 * time.Minute, Absolute: 12 * time.Hour}

// Alive reports whether the session may be used at now: no later than Idle
// after its last use and no later than its absolute end (both inclusive:
// at exactly LastSeen+Idle it still works, a second later it does not).
func (s *Session) Alive(now time.Time, l Lifetimes) bool {
	return !now.After(s.LastSeen.Add(l.Idle)) && !now.After(s.ExpiresAt)
}

// TokenPrefix starts every session token, so a leaked one says what it is.
const TokenPrefix = "ses_"

// NewToken returns a new random secret: 256 bits, URL-safe base64, after prefix.
func NewToken(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// HashToken is how a session token is stored and looked up: hex SHA-256
// (a 256-bit random token needs no slow hash).
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// InsertConflict is the ECONFLICT a store returns when inserting p did
// nothing: its login is taken, its subject already has a login, or its id exists.
func InsertConflict(p *Person, loginTaken, subjectTaken bool) error {
	switch {
	case loginTaken:
		return apperr.New(apperr.ECONFLICT, "person.login_taken", "login", "", "the login %q is taken", p.Login)
	case subjectTaken:
		return apperr.New(apperr.ECONFLICT, "person.subject_taken", "subject_id", "", "%s %s already has a login", p.Role, p.SubjectID)
	}
	return apperr.New(apperr.ECONFLICT, "person.exists", "id", "", "person %s already exists", p.ID)
}
