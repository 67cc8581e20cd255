package console

import (
	"aftersale/internal/auth"
	"aftersale/internal/store"
	"aftersale/internal/task"
)

// queueShown is how many intervening tasks the queue shows.
const queueShown = 100

func (c *Console) routesAgent() {
	c.mux.HandleFunc("GET "+Prefix+"/queue", c.page("queue", c.queue))
}

type queueData struct {
	Tasks []task.Task
	More  bool
}

// queue is the agents' intervention queue (平台介入中): tasks the platform
// handles, the nearest deadline first (R-SLA-4, R-EVD-4; store.QueueTasks
// on its partial index), those without one after them.
func (c *Console) queue(q *req) (string, any, error) {
	if err := q.may(auth.TaskAction(task.ActJudge)); err != nil {
		return "", nil, err
	}
	d := &queueData{}
	err := c.eng.Store().View(q.ctx, func(tx store.ReadTx) error {
		ts, err := tx.QueueTasks(q.ctx, queueShown+1)
		if len(ts) > queueShown {
			ts, d.More = ts[:queueShown], true
		}
		d.Tasks = ts
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return "queue", d, nil
}
