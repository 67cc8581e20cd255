package storetest

import (
	"context"
	"testing"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/store"
)

func init() {
	register("People", testPeople)
	register("Sessions", testSessions)
	register("PasswordChange", testPasswordChange)
}

func person(id, login string, role auth.Role, subject, shop string) *auth.Person {
	return &auth.Person{ID: id, Login: login, Role: role, SubjectID: subject, ShopID: shop,
		PasswordHash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA", CreatedAt: at(0), CreatedBy: "operator:op"}
}

// People: insert, read by id and by login, list by shop; a login or a
// subject taken twice is ECONFLICT with its own reason and changes nothing.
func testPeople(t *testing.T, s store.Store) {
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		_, err := tx.Person(ctx, "usr_none")
		wantCode(t, "Person(unknown)", err, apperr.ENOTFOUND)
		_, err = tx.PersonByLogin(ctx, "nobody")
		wantCode(t, "PersonByLogin(unknown)", err, apperr.ENOTFOUND)
		if ps := get[[]auth.Person](t)(tx.People(ctx, "")); len(ps) != 0 {
			t.Errorf("People() = %v", ps)
		}
	})
	main := person("usr_2", "shop.a", auth.RoleShopMain, "acc_a_main", "shp_a")
	sub := person("usr_3", "shop.a.sub", auth.RoleShopSub, "acc_a_1", "shp_a")
	buyer := person("usr_1", "buyer1", auth.RoleBuyer, "b1", "")
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, p := range []*auth.Person{main, sub, buyer} {
			must(t, tx.InsertPerson(ctx, p))
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Person(usr_3)", get[*auth.Person](t)(tx.Person(ctx, "usr_3")), sub)
		equal(t, "PersonByLogin(buyer1)", get[*auth.Person](t)(tx.PersonByLogin(ctx, "buyer1")), buyer)
		equal(t, "People(shp_a)", get[[]auth.Person](t)(tx.People(ctx, "shp_a")), []auth.Person{*main, *sub})
		equal(t, "People()", get[[]auth.Person](t)(tx.People(ctx, "")), []auth.Person{*buyer, *main, *sub})
	})
	for _, c := range []struct {
		p      *auth.Person
		reason string
	}{
		{person("usr_9", "buyer1", auth.RoleAgent, "a9", ""), "person.login_taken"},
		{person("usr_9", "other", auth.RoleShopSub, "acc_a_1", "shp_a"), "person.subject_taken"},
		{person("usr_1", "other", auth.RoleAgent, "a9", ""), "person.exists"},
	} {
		err := s.Update(t.Context(), func(tx store.Tx) error {
			// the conflict must not abort the transaction: a later statement still runs
			err := tx.InsertPerson(t.Context(), c.p)
			if _, err2 := tx.Person(t.Context(), "usr_1"); err2 != nil {
				t.Errorf("read after a conflict: %v", err2)
			}
			return err
		})
		if ae, ok := apperr.As(err); !ok || ae.Code != apperr.ECONFLICT || ae.Reason != c.reason {
			t.Errorf("InsertPerson(%s %s): %v, want %s", c.p.ID, c.p.Login, err, c.reason)
		}
	}
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		if ps := get[[]auth.Person](t)(tx.People(ctx, "")); len(ps) != 3 {
			t.Errorf("after conflicts: %d people, want 3", len(ps))
		}
	})
}

// Sessions: put (upsert on touch), read, delete one, delete those whose
// absolute end passed (strictly before the given time).
func testSessions(t *testing.T, s store.Store) {
	sess := func(id string, end time.Duration) *auth.Session {
		return &auth.Session{ID: id, PersonID: "usr_1", CSRF: "csrf-" + id, CreatedAt: at(0), LastSeen: at(0), ExpiresAt: at(end)}
	}
	a, b, c := sess("s_a", time.Hour), sess("s_b", 2*time.Hour), sess("s_c", 3*time.Hour)
	update(t, s, func(ctx context.Context, tx store.Tx) {
		for _, x := range []*auth.Session{a, b, c} {
			must(t, tx.PutSession(ctx, x))
		}
	})
	touched := *b
	touched.LastSeen = at(30 * time.Minute)
	update(t, s, func(ctx context.Context, tx store.Tx) { must(t, tx.PutSession(ctx, &touched)) })
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Session(s_a)", get[*auth.Session](t)(tx.Session(ctx, "s_a")), a)
		equal(t, "Session(s_b) after touch", get[*auth.Session](t)(tx.Session(ctx, "s_b")), &touched)
		_, err := tx.Session(ctx, "s_none")
		wantCode(t, "Session(unknown)", err, apperr.ENOTFOUND)
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.DeleteSession(ctx, "s_c"))
		must(t, tx.DeleteSession(ctx, "s_none"))
		// s_b ends exactly at t0+2h: not before it, so it stays
		if n := get[int](t)(tx.DeleteSessionsBefore(ctx, at(2*time.Hour))); n != 1 {
			t.Errorf("DeleteSessionsBefore = %d, want 1 (s_a)", n)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		for id, want := range map[string]bool{"s_a": false, "s_b": true, "s_c": false} {
			_, err := tx.Session(ctx, id)
			if (err == nil) != want {
				t.Errorf("Session(%s) after deletes: %v, want present=%v", id, err, want)
			}
		}
	})
}

// A password change rewrites the person (its login stays found) and ends
// the person's other sessions, keeping the one named; others' sessions
// stay. Updating a person never stored is ENOTFOUND.
func testPasswordChange(t *testing.T, s store.Store) {
	p := person("usr_1", "buyer1", auth.RoleBuyer, "b1", "")
	other := person("usr_2", "buyer2", auth.RoleBuyer, "b2", "")
	sess := func(id, personID string) *auth.Session {
		return &auth.Session{ID: id, PersonID: personID, CSRF: "c", CreatedAt: at(0), LastSeen: at(0), ExpiresAt: at(time.Hour)}
	}
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.InsertPerson(ctx, p))
		must(t, tx.InsertPerson(ctx, other))
		for _, x := range []*auth.Session{sess("s_1", "usr_1"), sess("s_2", "usr_1"), sess("s_3", "usr_1"), sess("s_o", "usr_2")} {
			must(t, tx.PutSession(ctx, x))
		}
	})
	changed := *p
	changed.PasswordHash = "$argon2id$new"
	when := at(time.Minute)
	changed.PasswordChangedAt = &when
	update(t, s, func(ctx context.Context, tx store.Tx) {
		must(t, tx.UpdatePerson(ctx, &changed))
		if n := get[int](t)(tx.DeleteSessionsOf(ctx, "usr_1", "s_2")); n != 2 {
			t.Errorf("DeleteSessionsOf(usr_1, keep s_2) = %d, want 2", n)
		}
	})
	view(t, s, func(ctx context.Context, tx store.ReadTx) {
		equal(t, "Person after UpdatePerson", get[*auth.Person](t)(tx.Person(ctx, "usr_1")), &changed)
		equal(t, "PersonByLogin after UpdatePerson", get[*auth.Person](t)(tx.PersonByLogin(ctx, "buyer1")), &changed)
		for id, want := range map[string]bool{"s_1": false, "s_2": true, "s_3": false, "s_o": true} {
			_, err := tx.Session(ctx, id)
			if (err == nil) != want {
				t.Errorf("Session(%s) after DeleteSessionsOf: %v, want present=%v", id, err, want)
			}
		}
	})
	update(t, s, func(ctx context.Context, tx store.Tx) {
		if n := get[int](t)(tx.DeleteSessionsOf(ctx, "usr_1", "")); n != 1 {
			t.Errorf("DeleteSessionsOf(usr_1, keep none) = %d, want 1", n)
		}
	})
	err := s.Update(t.Context(), func(tx store.Tx) error {
		ghost := person("usr_9", "ghost", auth.RoleBuyer, "b9", "")
		return tx.UpdatePerson(t.Context(), ghost)
	})
	wantCode(t, "UpdatePerson(unknown)", err, apperr.ENOTFOUND)
}
