package engine

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/auth"
	"aftersale/internal/commerce"
	"aftersale/internal/task"
)

// People, sub-accounts and sessions. Password hashing is the caller's (it
// is slow on purpose and must not hold the write transaction); the engine
// stores the hash and records who changed what.

// AccountStream is the event stream of a shop's account changes.
func AccountStream(shopID string) string { return "accounts:" + shopID }

// PersonStream is the event stream of a person's login changes.
func PersonStream(personID string) string { return "person:" + personID }

// CreatePerson stores a new login for p's subject and records it. p's
// PasswordHash is set; its ID and CreatedAt are set here. A shop login's
// subject must be an existing account of the matching kind (its shop is
// filled in); an operator's subject is the person itself. by is who made it.
func (e *Engine) CreatePerson(ctx context.Context, by task.Actor, p *auth.Person) error {
	if !p.Role.Valid() {
		return apperr.Invalid("role", "", "role must be buyer, shop_main, shop_sub, agent or operator; got %q", p.Role)
	}
	return e.update(ctx, func(x *txn) error {
		p.ID, p.CreatedAt = x.e.ids.New("usr"), x.now
		if by.ID != "" {
			p.CreatedBy = string(by.Role) + ":" + by.ID
		}
		version := ""
		switch {
		case p.Role == auth.RoleOperator:
			p.SubjectID, p.ShopID = p.ID, ""
		case p.Role.Shop():
			acc, err := x.tx.Account(ctx, p.SubjectID)
			if err != nil {
				return apperr.NotFoundAs(err, "subject_id", "no shop account %q", p.SubjectID)
			}
			if (p.Role == auth.RoleShopMain) != (acc.Role == commerce.RoleMain) {
				return apperr.Invalid("role", "", "account %s is a %s account; its login's role is shop_%s", acc.ID, acc.Role, acc.Role)
			}
			p.ShopID = acc.ShopID
			_, r, err := x.shopRules(ctx, acc.ShopID)
			if err != nil {
				return err
			}
			version = r.Version
		default:
			if p.SubjectID == "" {
				return apperr.Invalid("subject_id", "", "a %s login names its %s id", p.Role, p.Role)
			}
			p.ShopID = ""
		}
		if err := x.tx.InsertPerson(ctx, p); err != nil {
			return err
		}
		vis := task.AgentsOnly
		if p.ShopID != "" {
			vis = task.ShopAgent
		}
		return x.accountEvent(ctx, PersonStream(p.ID), p.ShopID, by, "person_created", "", version, vis,
			map[string]string{"person_id": p.ID, "login": p.Login, "role": string(p.Role), "subject_id": p.SubjectID})
	})
}

func (x *txn) accountEvent(ctx context.Context, stream, shopID string, by task.Actor, action, rule, version string, vis task.Visibility, data any) error {
	ev := task.Event{Stream: stream, ShopID: shopID, At: x.now, Actor: by, Action: action, Rule: rule,
		PolicyVersion: version, Visibility: vis}
	if data != nil {
		ev.Data, _ = json.Marshal(data)
	}
	return x.tx.AppendEvents(ctx, []task.Event{ev})
}

// mainOf checks that actor is the main account of shopID and returns the
// shop's rules version. Another shop's account gets not_your_shop.
func (x *txn) mainOf(ctx context.Context, actor task.Actor, shopID string) (*commerce.Shop, string, error) {
	if actor.Role != task.RoleShopMain {
		return nil, "", apperr.Forbidden("permission.denied", "R-ACC-1", "only the shop's main account manages its sub-accounts")
	}
	shop, err := x.shop(ctx, shopID)
	if err != nil {
		return nil, "", apperr.NotFoundAs(err, "id", "no shop %q", shopID)
	}
	if shop.MainAccount != actor.ID {
		return nil, "", apperr.Forbidden("not_your_shop", "", "account %s is not the main account of shop %s", actor.ID, shopID)
	}
	r, err := x.rules(shop.Platform, x.now)
	if err != nil {
		return nil, "", err
	}
	return shop, r.Version, nil
}

func checkPermissions(field string, perms []string) error {
	for _, p := range perms {
		if !slices.Contains(auth.Permissions, p) {
			return apperr.Invalid(field, "R-ACC-1", "unknown permission %q (known: %v)", p, auth.Permissions)
		}
	}
	return nil
}

// CreateSubAccount makes a sub-account of shopID with the permissions and
// a login for it (p, hashed), in one transaction, and records it on the
// shop's account stream. Only the shop's main account may (R-ACC-1).
func (e *Engine) CreateSubAccount(ctx context.Context, actor task.Actor, shopID, accountID string, perms []string, p *auth.Person) (*commerce.Account, error) {
	acc := &commerce.Account{ID: accountID, ShopID: shopID, Role: commerce.RoleSub, Permissions: slices.Clone(perms), SubscribesReminders: true}
	err := e.update(ctx, func(x *txn) error {
		_, version, err := x.mainOf(ctx, actor, shopID)
		if err != nil {
			return err
		}
		if accountID == "" {
			return apperr.Invalid("account_id", "", "name the sub-account")
		}
		if err := checkPermissions("permissions", perms); err != nil {
			return err
		}
		if _, err := x.tx.Account(ctx, accountID); err == nil {
			return apperr.New(apperr.ECONFLICT, "account.exists", "account_id", "", "account %s already exists", accountID)
		} else if apperr.CodeOf(err) != apperr.ENOTFOUND {
			return err
		}
		if err := x.tx.PutAccount(ctx, acc); err != nil {
			return err
		}
		p.ID, p.CreatedAt, p.CreatedBy = x.e.ids.New("usr"), x.now, string(actor.Role)+":"+actor.ID
		p.Role, p.SubjectID, p.ShopID = auth.RoleShopSub, accountID, shopID
		if err := x.tx.InsertPerson(ctx, p); err != nil {
			return err
		}
		return x.accountEvent(ctx, AccountStream(shopID), shopID, actor, "sub_account_created", "R-ACC-1", version, task.ShopAgent,
			map[string]any{"account_id": accountID, "login": p.Login, "person_id": p.ID, "permissions": acc.Permissions})
	})
	if err != nil {
		return nil, err
	}
	return acc, nil
}

// SetPermission grants (granted) or revokes a permission of a sub-account,
// as its shop's main account (R-ACC-1), and records the change on the
// shop's account stream. Setting what is already set changes nothing and
// records nothing. The marketplace's later account facts still win: they
// carry the account as the marketplace knows it.
func (e *Engine) SetPermission(ctx context.Context, actor task.Actor, accountID, perm string, granted bool) (*commerce.Account, error) {
	var out *commerce.Account
	err := e.update(ctx, func(x *txn) error {
		acc, err := x.tx.Account(ctx, accountID)
		if err != nil {
			return apperr.NotFoundAs(err, "id", "no account %q", accountID)
		}
		_, version, err := x.mainOf(ctx, actor, acc.ShopID)
		if err != nil {
			return err
		}
		if err := checkPermissions("permission", []string{perm}); err != nil {
			return err
		}
		if acc.Role != commerce.RoleSub {
			return apperr.Invalid("id", "R-ACC-1", "account %s is the main account: it holds every permission", acc.ID)
		}
		out = acc
		has := slices.Contains(acc.Permissions, perm)
		if has == granted {
			return nil
		}
		action := "permission_granted"
		if granted {
			acc.Permissions = append(acc.Permissions, perm)
		} else {
			action = "permission_revoked"
			acc.Permissions = slices.DeleteFunc(acc.Permissions, func(s string) bool { return s == perm })
		}
		if err := x.tx.PutAccount(ctx, acc); err != nil {
			return err
		}
		return x.accountEvent(ctx, AccountStream(acc.ShopID), acc.ShopID, actor, action, "R-ACC-1", version, task.ShopAgent,
			map[string]any{"account_id": acc.ID, "permission": perm})
	})
	return out, err
}

// OpenSession stores a new session and drops the sessions whose absolute
// end passed.
func (e *Engine) OpenSession(ctx context.Context, s *auth.Session) error {
	return e.update(ctx, func(x *txn) error {
		if _, err := x.tx.DeleteSessionsBefore(ctx, s.CreatedAt); err != nil {
			return err
		}
		return x.tx.PutSession(ctx, s)
	})
}

// TouchSession records that a session was used at now.
func (e *Engine) TouchSession(ctx context.Context, id string, now time.Time) error {
	return e.update(ctx, func(x *txn) error {
		s, err := x.tx.Session(ctx, id)
		if err != nil {
			return err
		}
		if !now.After(s.LastSeen) {
			return nil
		}
		s.LastSeen = now
		return x.tx.PutSession(ctx, s)
	})
}

// CloseSession ends a session (signing out).
func (e *Engine) CloseSession(ctx context.Context, id string) error {
	return e.update(ctx, func(x *txn) error { return x.tx.DeleteSession(ctx, id) })
}

// SetReminders turns a shop account's task reminders (R-NTF-1: pop-ups it
// subscribes to, at most 10 a business day) on or off, as the shop's main
// account, and records the change on the shop's account stream. Setting
// what is already set changes nothing and records nothing. The
// marketplace's later account facts still win.
func (e *Engine) SetReminders(ctx context.Context, actor task.Actor, accountID string, on bool) (*commerce.Account, error) {
	var out *commerce.Account
	err := e.update(ctx, func(x *txn) error {
		acc, err := x.tx.Account(ctx, accountID)
		if err != nil {
			return apperr.NotFoundAs(err, "id", "no account %q", accountID)
		}
		_, version, err := x.mainOf(ctx, actor, acc.ShopID)
		if err != nil {
			return err
		}
		out = acc
		if acc.SubscribesReminders == on {
			return nil
		}
		acc.SubscribesReminders = on
		if err := x.tx.PutAccount(ctx, acc); err != nil {
			return err
		}
		action := "reminders_off"
		if on {
			action = "reminders_on"
		}
		return x.accountEvent(ctx, AccountStream(acc.ShopID), acc.ShopID, actor, action, "R-NTF-1", version, task.ShopAgent,
			map[string]any{"account_id": acc.ID})
	})
	return out, err
}

// SetPassword stores a new password hash for a person and ends the person's
// sessions but keep ("" for all): a change by the person keeps the session
// it was made in; a reset by an operator signs the person out everywhere.
// The event says who changed it, never the hash.
func (e *Engine) SetPassword(ctx context.Context, by task.Actor, personID, hash, keep string) (*auth.Person, error) {
	var out *auth.Person
	err := e.update(ctx, func(x *txn) error {
		p, err := x.tx.Person(ctx, personID)
		if err != nil {
			return apperr.NotFoundAs(err, "person_id", "no person %q", personID)
		}
		at := x.now
		p.PasswordHash, p.PasswordChangedAt = hash, &at
		if err := x.tx.UpdatePerson(ctx, p); err != nil {
			return err
		}
		ended, err := x.tx.DeleteSessionsOf(ctx, p.ID, keep)
		if err != nil {
			return err
		}
		action := "password_changed"
		if keep == "" {
			action = "password_reset"
		}
		vis := task.AgentsOnly
		if p.ShopID != "" {
			vis = task.ShopAgent
		}
		out = p
		return x.accountEvent(ctx, PersonStream(p.ID), p.ShopID, by, action, "", "", vis,
			map[string]any{"person_id": p.ID, "login": p.Login, "sessions_ended": ended})
	})
	return out, err
}
