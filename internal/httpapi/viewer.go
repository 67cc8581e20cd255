package httpapi

import (
	"context"
	"strings"
	"time"

	"aftersale/internal/apperr"
	"aftersale/internal/engine"
	"aftersale/internal/policy"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// viewer is who a read is for. The platform key reads for anyone; without a
// viewer it reads as an agent (sees everything).
type viewer struct {
	Role task.Role
	ID   string
}

// parseViewer reads "role:id"; "" is the agent view.
func parseViewer(s string) (viewer, error) {
	if s == "" {
		return viewer{Role: task.RoleAgent}, nil
	}
	role, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return viewer{}, apperr.Invalid("viewer", "", "viewer is role:id (buyer:b1, shop_main:acc, shop_sub:acc, agent:a1); got %q", s)
	}
	switch task.Role(role) {
	case task.RoleBuyer, task.RoleShopMain, task.RoleShopSub, task.RoleAgent:
	default:
		return viewer{}, apperr.Invalid("viewer", "", "unknown viewer role %q (buyer, shop_main, shop_sub, agent)", role)
	}
	return viewer{Role: task.Role(role), ID: id}, nil
}

func (v viewer) buyer() bool { return v.Role == task.RoleBuyer }
func (v viewer) shop() bool  { return v.Role == task.RoleShopMain || v.Role == task.RoleShopSub }

// shopOf returns the shop of a shop viewer's account.
func (v viewer) shopOf(ctx context.Context, tx store.ReadTx) (string, error) {
	return engine.Viewer(v).ShopOf(ctx, tx)
}

// parseDuration reads 90m, 24h, 10d, 1d12h.
func parseDuration(s string) (time.Duration, error) {
	d, err := policy.ParseDuration(s)
	return d.D(), err
}
