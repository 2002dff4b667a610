"""The real servers on the lab's targets, from Debian packages, configured from files
in the lab's state directory and run inside the target namespace.

nginx serves HTTP on 80 and HTTPS with HTTP/2 (ALPN) on 443, apache2 HTTP with the
h2c upgrade on 8080 (nginx cannot upgrade cleartext connections), dnsmasq DNS on 53
over UDP and TCP for every target's name.
"""
import subprocess
from pathlib import Path

PAGE = ("<!doctype html><title>pathspider-cpp lab target</title>\n"
        + "<p>A target of the path-transparency lab.</p>\n" * 80)

NGINX = """\
daemon on;
worker_processes auto;
user root root;
pid {state}/nginx.pid;
error_log {state}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {state}/nginx-body;
  proxy_temp_path {state}/nginx-proxy;
  fastcgi_temp_path {state}/nginx-fastcgi;
  uwsgi_temp_path {state}/nginx-uwsgi;
  scgi_temp_path {state}/nginx-scgi;
  server {{
    listen 80 default_server backlog=4096;
    listen [::]:80 default_server;
    listen 443 ssl http2 default_server;
    listen [::]:443 ssl http2 default_server;
    ssl_certificate {state}/tls.crt;
    ssl_certificate_key {state}/tls.key;
    root {state}/www;
    index index.html;
  }}
}}
"""

APACHE = """\
ServerRoot "{state}"
DefaultRuntimeDir "{state}"
PidFile "{state}/apache2.pid"
ErrorLog "{state}/apache2-error.log"
LogLevel warn
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule http2_module /usr/lib/apache2/modules/mod_http2.so
User www-data
Group www-data
Listen {h2c_port}
ServerName pathspider.test
Protocols h2c http/1.1
DocumentRoot "{state}/www"
DirectoryIndex index.html
<Directory "{state}/www">
  Require all granted
</Directory>
"""

# (name, pid file, listening sockets "proto:port" it must open)
SERVERS = (("nginx", "nginx.pid", ("tcp:80", "tcp:443")),
           ("apache2", "apache2.pid", ("tcp:8080",)),
           ("dnsmasq", "dnsmasq.pid", ("tcp:53", "udp:53")))


def write_config(state: Path, targets, h2c_port: int):
    www = state / "www"
    www.mkdir(mode=0o755)
    (www / "index.html").write_text(PAGE)
    state.chmod(0o755)  # apache2 serves as www-data
    (state / "nginx.conf").write_text(NGINX.format(state=state))
    (state / "apache2.conf").write_text(APACHE.format(state=state, h2c_port=h2c_port))
    (state / "hosts").write_text("".join(f"{t['dip']} {t['domain']}\n" for t in targets))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                    "-subj", "/CN=pathspider.test",
                    "-addext", "subjectAltName=DNS:pathspider.test,DNS:*.pathspider.test",
                    "-keyout", str(state / "tls.key"), "-out", str(state / "tls.crt")],
                   check=True, capture_output=True)


def commands(state: Path):
    """The command starting each server (each daemonises once listening)."""
    return {
        "nginx": ["nginx", "-c", str(state / "nginx.conf")],
        "apache2": ["apache2", "-f", str(state / "apache2.conf"), "-k", "start"],
        "dnsmasq": ["dnsmasq", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                    f"--addn-hosts={state}/hosts", f"--pid-file={state}/dnsmasq.pid",
                    f"--log-facility={state}/dnsmasq.log", "--dns-forward-max=1000",
                    "--cache-size=0"],
    }
