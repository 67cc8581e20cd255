package policy

// The business time zone (Asia/Shanghai by default) decides per-day caps and
// half-month periods; embed the zone database so a machine without tzdata
// does not silently fall back to UTC.
import _ "time/tzdata"
