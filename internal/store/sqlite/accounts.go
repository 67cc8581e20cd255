package sqlite

import (
	"context"
	"fmt"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/store/storecodec"
)

// People and sessions (store.PeopleReader, store.PeopleWriter). These run
// once per sign-in or per authenticated request, not on the fact path, so
// they are plain statements rather than entries of the prepared set.
const (
	qPerson        = `SELECT data FROM people WHERE id = ?`
	qPersonByLogin = `SELECT data FROM people WHERE login = ?`
	qPeople        = `SELECT data FROM people ORDER BY id`
	qShopPeople    = `SELECT data FROM people WHERE shop_id = ? ORDER BY id`
	qSession       = `SELECT data FROM sessions WHERE id = ?`
	qPersonTaken   = `SELECT (SELECT count(*) FROM people WHERE login = ?), (SELECT count(*) FROM people WHERE role = ? AND subject_id = ?)`

	wPerson = `INSERT INTO people (id, login, role, subject_id, shop_id, data) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`
	wSession = `INSERT INTO sessions (id, person_id, expires_at, data) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id, expires_at = excluded.expires_at, data = excluded.data`
	wDeleteSession        = `DELETE FROM sessions WHERE id = ?`
	wDeleteSessionsBefore = `DELETE FROM sessions WHERE expires_at < ?`
	wUpdatePerson         = `UPDATE people SET data = ? WHERE id = ?`
	wDeleteSessionsOf     = `DELETE FROM sessions WHERE person_id = ? AND id <> ?`
)

// Person implements store.PeopleReader.
func (t *rtx) Person(ctx context.Context, id string) (*auth.Person, error) {
	var p auth.Person
	if err := t.getOne(ctx, qPerson, &p, "person_id", "person", id); err != nil {
		return nil, err
	}
	return &p, nil
}

// PersonByLogin implements store.PeopleReader.
func (t *rtx) PersonByLogin(ctx context.Context, login string) (*auth.Person, error) {
	var p auth.Person
	if err := t.getOne(ctx, qPersonByLogin, &p, "login", "login", login); err != nil {
		return nil, err
	}
	return &p, nil
}

// People implements store.PeopleReader.
func (t *rtx) People(ctx context.Context, shopID string) ([]auth.Person, error) {
	if shopID == "" {
		rows, err := t.tx.QueryContext(ctx, qPeople)
		return listJSON[auth.Person](rows, err, "people")
	}
	rows, err := t.tx.QueryContext(ctx, qShopPeople, shopID)
	return listJSON[auth.Person](rows, err, "people")
}

// Session implements store.PeopleReader.
func (t *rtx) Session(ctx context.Context, id string) (*auth.Session, error) {
	var s auth.Session
	if err := t.getOne(ctx, qSession, &s, "session", "session", id); err != nil {
		return nil, err
	}
	return &s, nil
}

// InsertPerson implements store.PeopleWriter.
func (t *wtx) InsertPerson(ctx context.Context, p *auth.Person) error {
	data, err := storecodec.EncodeUTC(p)
	if err != nil {
		return fmt.Errorf("sqlite: encode person %q: %w", p.ID, err)
	}
	res, err := t.tx.ExecContext(ctx, wPerson, p.ID, p.Login, string(p.Role), p.SubjectID, p.ShopID, string(data))
	if err != nil {
		return fmt.Errorf("sqlite: insert person %q: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	var logins, subjects int
	if err := t.tx.QueryRowContext(ctx, qPersonTaken, p.Login, string(p.Role), p.SubjectID).Scan(&logins, &subjects); err != nil {
		return fmt.Errorf("sqlite: insert person %q: %w", p.ID, err)
	}
	return auth.InsertConflict(p, logins > 0, subjects > 0)
}

// PutSession implements store.PeopleWriter.
func (t *wtx) PutSession(ctx context.Context, s *auth.Session) error {
	data, err := storecodec.EncodeUTC(s)
	if err != nil {
		return fmt.Errorf("sqlite: encode session: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, wSession, s.ID, s.PersonID, fmtTime(s.ExpiresAt), string(data)); err != nil {
		return fmt.Errorf("sqlite: put session: %w", err)
	}
	return nil
}

// DeleteSession implements store.PeopleWriter.
func (t *wtx) DeleteSession(ctx context.Context, id string) error {
	if _, err := t.tx.ExecContext(ctx, wDeleteSession, id); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsBefore implements store.PeopleWriter.
func (t *wtx) DeleteSessionsBefore(ctx context.Context, before time.Time) (int, error) {
	res, err := t.tx.ExecContext(ctx, wDeleteSessionsBefore, fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// UpdatePerson implements store.PeopleWriter.
func (t *wtx) UpdatePerson(ctx context.Context, p *auth.Person) error {
	data, err := storecodec.EncodeUTC(p)
	if err != nil {
		return fmt.Errorf("sqlite: encode person %q: %w", p.ID, err)
	}
	res, err := t.tx.ExecContext(ctx, wUpdatePerson, string(data), p.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update person %q: %w", p.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return err
	}
	return apperr.NotFound("person_id", "person %q not found", p.ID)
}

// DeleteSessionsOf implements store.PeopleWriter.
func (t *wtx) DeleteSessionsOf(ctx context.Context, personID, keep string) (int, error) {
	res, err := t.tx.ExecContext(ctx, wDeleteSessionsOf, personID, keep)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete sessions of %q: %w", personID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
