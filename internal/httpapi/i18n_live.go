package httpapi

func init() {
	titles["live.disabled"] = title{"实时推送未启用", "Live delivery is not running"}
	titles["webhook.pending"] = title{"该投递仍在进行中", "The delivery is still pending"}
}
