package postgres

import (
	"context"
	"fmt"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/store/storecodec"
)

// People and sessions (store.PeopleReader, store.PeopleWriter).
const (
	qPerson        = `SELECT data FROM people WHERE id = $1`
	qPersonByLogin = `SELECT data FROM people WHERE login = $1`
	qPeople        = `SELECT data FROM people ORDER BY id`
	qShopPeople    = `SELECT data FROM people WHERE shop_id = $1 ORDER BY id`
	qSession       = `SELECT data FROM sessions WHERE id = $1`
	qPersonTaken   = `SELECT EXISTS (SELECT 1 FROM people WHERE login = $1), EXISTS (SELECT 1 FROM people WHERE role = $2 AND subject_id = $3)`

	// ON CONFLICT DO NOTHING (no target) covers the primary key and both
	// unique indexes without aborting the transaction; InsertPerson tells
	// them apart after.
	wPerson = `INSERT INTO people (id, login, role, subject_id, shop_id, data) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING`
	wSession = `INSERT INTO sessions (id, person_id, expires_at, data) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, expires_at = excluded.expires_at, data = excluded.data`
	wDeleteSession        = `DELETE FROM sessions WHERE id = $1`
	wDeleteSessionsBefore = `DELETE FROM sessions WHERE expires_at < $1`
	wUpdatePerson         = `UPDATE people SET data = $2 WHERE id = $1`
	wDeleteSessionsOf     = `DELETE FROM sessions WHERE person_id = $1 AND id <> $2`
)

// Person implements store.PeopleReader.
func (t *rtx) Person(ctx context.Context, id string) (*auth.Person, error) {
	var p auth.Person
	if err := t.getJSON(ctx, qPerson, &p, "person_id", "person", id); err != nil {
		return nil, err
	}
	return &p, nil
}

// PersonByLogin implements store.PeopleReader.
func (t *rtx) PersonByLogin(ctx context.Context, login string) (*auth.Person, error) {
	var p auth.Person
	if err := t.getJSON(ctx, qPersonByLogin, &p, "login", "login", login); err != nil {
		return nil, err
	}
	return &p, nil
}

// People implements store.PeopleReader.
func (t *rtx) People(ctx context.Context, shopID string) ([]auth.Person, error) {
	if shopID == "" {
		return listJSON[auth.Person](ctx, t, "people", qPeople)
	}
	return listJSON[auth.Person](ctx, t, "people", qShopPeople, shopID)
}

// Session implements store.PeopleReader.
func (t *rtx) Session(ctx context.Context, id string) (*auth.Session, error) {
	var s auth.Session
	if err := t.getJSON(ctx, qSession, &s, "session", "session", id); err != nil {
		return nil, err
	}
	return &s, nil
}

// InsertPerson implements store.PeopleWriter.
func (t *wtx) InsertPerson(ctx context.Context, p *auth.Person) error {
	data, err := storecodec.EncodeUTC(p)
	if err != nil {
		return fmt.Errorf("postgres: encode person %q: %w", p.ID, err)
	}
	tag, err := t.tx.Exec(ctx, wPerson, p.ID, p.Login, string(p.Role), p.SubjectID, p.ShopID, string(data))
	if err != nil {
		return fmt.Errorf("postgres: insert person %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var login, subject bool
	if err := t.tx.QueryRow(ctx, qPersonTaken, p.Login, string(p.Role), p.SubjectID).Scan(&login, &subject); err != nil {
		return fmt.Errorf("postgres: insert person %q: %w", p.ID, err)
	}
	return auth.InsertConflict(p, login, subject)
}

// PutSession implements store.PeopleWriter.
func (t *wtx) PutSession(ctx context.Context, s *auth.Session) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("postgres: encode session: %w", err)
	}
	if _, err := t.tx.Exec(ctx, wSession, s.ID, s.PersonID, s.ExpiresAt, string(data)); err != nil {
		return fmt.Errorf("postgres: put session: %w", err)
	}
	return nil
}

// DeleteSession implements store.PeopleWriter.
func (t *wtx) DeleteSession(ctx context.Context, id string) error {
	if _, err := t.tx.Exec(ctx, wDeleteSession, id); err != nil {
		return fmt.Errorf("postgres: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore implements store.PeopleWriter.
func (t *wtx) DeleteSessionsBefore(ctx context.Context, before time.Time) (int, error) {
	tag, err := t.tx.Exec(ctx, wDeleteSessionsBefore, before)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// UpdatePerson implements store.PeopleWriter.
func (t *wtx) UpdatePerson(ctx context.Context, p *auth.Person) error {
	data, err := storecodec.EncodeUTC(p)
	if err != nil {
		return fmt.Errorf("postgres: encode person %q: %w", p.ID, err)
	}
	tag, err := t.tx.Exec(ctx, wUpdatePerson, p.ID, string(data))
	if err != nil {
		return fmt.Errorf("postgres: update person %q: %w", p.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("person_id", "person %q not found", p.ID)
	}
	return nil
}

// DeleteSessionsOf implements store.PeopleWriter.
func (t *wtx) DeleteSessionsOf(ctx context.Context, personID, keep string) (int, error) {
	tag, err := t.tx.Exec(ctx, wDeleteSessionsOf, personID, keep)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete sessions of %q: %w", personID, err)
	}
	return int(tag.RowsAffected()), nil
}
