package nginxconf

import "testing"

func TestLogFormats(t *testing.T) {
	conf := `http {
    log_format main '$remote_addr - $remote_user [$time_local] "$request" '
                    '$status $body_bytes_sent';  # trailing comment
    log_format js escape=json '{"t":"$time_iso8601","s":$status}';
}`
	var got []string
	for _, f := range LogFormats(Parse([]byte(conf))) {
		got = append(got, f.Format)
	}
	want := []string{`$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent`,
		`escape=json {"t":"$time_iso8601","s":$status}`}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestUpstreamServers(t *testing.T) {
	conf := `http {
    proxy_next_upstream error timeout;
    upstream users_api {
        server 127.0.0.1:18535 max_fails=1 fail_timeout=5s;
        server 127.0.0.1:18536;   # second
        keepalive 8;
    }
    upstream php { server unix:/run/php/fpm.sock; }
    server { location / { proxy_pass http://users_api; } }
}`
	got := UpstreamServers(Parse([]byte(conf)))
	want := map[string]string{"127.0.0.1:18535": "users_api", "127.0.0.1:18536": "users_api", "unix:/run/php/fpm.sock": "php"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q", k, got[k], v)
		}
	}
}
