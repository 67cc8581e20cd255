package store

import (
	"context"
	"time"

	"aftersale/internal/auth"
)

// PeopleReader reads the people who sign in and their sessions.
type PeopleReader interface {
	// Person returns a person by id (ENOTFOUND when none).
	Person(ctx context.Context, id string) (*auth.Person, error)
	// PersonByLogin returns the person with a normalized login (ENOTFOUND when none).
	PersonByLogin(ctx context.Context, login string) (*auth.Person, error)
	// People lists people ordered by id: a shop's ("" for everyone's).
	People(ctx context.Context, shopID string) ([]auth.Person, error)
	// Session returns a session by id, the hash of its token (ENOTFOUND when none).
	Session(ctx context.Context, id string) (*auth.Session, error)
}

// PeopleWriter writes people and sessions.
type PeopleWriter interface {
	// InsertPerson stores a new person. A login already taken is ECONFLICT
	// person.login_taken; a subject (role and subject id) that already has a
	// login is ECONFLICT person.subject_taken.
	InsertPerson(ctx context.Context, p *auth.Person) error
	// UpdatePerson replaces a stored person's data (its password, name);
	// its login, role and subject stay as inserted. ENOTFOUND when none.
	UpdatePerson(ctx context.Context, p *auth.Person) error
	// PutSession stores a session, or replaces the one with its id.
	PutSession(ctx context.Context, s *auth.Session) error
	// DeleteSession removes a session (no error when it is not there).
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessionsBefore removes the sessions whose absolute end is before t
	// and returns how many it removed.
	DeleteSessionsBefore(ctx context.Context, t time.Time) (int, error)
	// DeleteSessionsOf removes a person's sessions but keep ("" for none)
	// and returns how many it removed.
	DeleteSessionsOf(ctx context.Context, personID, keep string) (int, error)
}
