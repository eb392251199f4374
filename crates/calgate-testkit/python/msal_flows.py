"""Drives unmodified msal against calgate-sim's Entra ID endpoints.

Usage: python msal_flows.py '<json settings>'
Settings: authority (https://host:port/tenant), client_id, ca (CA file), flow, and per flow
username/password/scopes, private_key_pem_path/thumbprint/certificate_pem_path.
Prints one JSON object per line: {"step": ..., ...}. The device flow prints its user code
first and then waits for the test to approve it through the simulator's control API.

Two things are configuration, not patches: instance discovery is off (the simulator is not a
Microsoft cloud), and the HTTP session sends port-less URLs for the simulator's host to its
port, because msal builds the user-realm URL from the host name alone (it always means :443).
"""

import json
import sys
from urllib.parse import urlsplit, urlunsplit

import msal
import requests


class SimulatorSession(requests.Session):
    def __init__(self, authority, ca):
        super().__init__()
        parts = urlsplit(authority)
        self.sim_host = parts.hostname
        self.sim_port = parts.port
        # REQUESTS_CA_BUNDLE would override `verify`; trust exactly the simulator's CA.
        self.trust_env = False
        self.verify = ca

    def request(self, method, url, *args, **kwargs):
        parts = urlsplit(url)
        if parts.hostname == self.sim_host and parts.port is None:
            url = urlunsplit(parts._replace(netloc="%s:%d" % (self.sim_host, self.sim_port)))
        return super().request(method, url, *args, **kwargs)


def emit(step, result):
    """Prints a result; error fields and the tokens the test verifies against the simulator."""
    keep = ("access_token", "refresh_token", "expires_in", "token_type", "error", "error_description", "error_codes",
            "trace_id", "correlation_id", "timestamp", "scope", "user_code", "interval", "token_source")
    out = {"step": step}
    out.update({k: result[k] for k in keep if k in result})
    print(json.dumps(out), flush=True)


def public_app(s, session):
    return msal.PublicClientApplication(
        s["client_id"], authority=s["authority"], instance_discovery=False, http_client=session)


def main():
    s = json.loads(sys.argv[1])
    session = SimulatorSession(s["authority"], s["ca"])
    flow = s["flow"]
    if flow == "password":
        app = public_app(s, session)
        first = app.acquire_token_by_username_password(s["username"], s["password"], scopes=s["scopes"])
        emit("password", first)
        accounts = app.get_accounts(username=s["username"])
        print(json.dumps({"step": "accounts", "count": len(accounts)}), flush=True)
        for i in range(int(s.get("refreshes", 0))):
            # force_refresh skips the cached access token and redeems the cached refresh token.
            again = app.acquire_token_silent_with_error(s["scopes"], account=accounts[0], force_refresh=True)
            emit("refresh%d" % i, again or {"error": "no_result"})
    elif flow == "device":
        app = public_app(s, session)
        device = app.initiate_device_flow(scopes=s["scopes"])
        emit("device_flow", device)
        result = app.acquire_token_by_device_flow(device)
        emit("device_token", result)
    elif flow == "client_certificate":
        with open(s["private_key_pem_path"]) as f:
            key = f.read()
        with open(s["certificate_pem_path"]) as f:
            cert = f.read()
        # The legacy form: RS256 with an x5t (SHA-1) thumbprint.
        legacy = msal.ConfidentialClientApplication(
            s["client_id"], authority=s["authority"], instance_discovery=False, http_client=session,
            client_credential={"private_key": key, "thumbprint": s["thumbprint"]})
        emit("certificate_sha1", legacy.acquire_token_for_client(scopes=s["scopes"]))
        # The current form: PS256 with x5t#S256, msal computing the thumbprint from the certificate.
        current = msal.ConfidentialClientApplication(
            s["client_id"], authority=s["authority"], instance_discovery=False, http_client=session,
            client_credential={"private_key": key, "public_certificate": cert})
        emit("certificate_sha256", current.acquire_token_for_client(scopes=s["scopes"]))
        # A key that is not the registered certificate's must be refused.
        if s.get("foreign_private_key_pem_path"):
            with open(s["foreign_private_key_pem_path"]) as f:
                foreign = f.read()
            forged = msal.ConfidentialClientApplication(
                s["client_id"], authority=s["authority"], instance_discovery=False, http_client=session,
                client_credential={"private_key": foreign, "thumbprint": s["thumbprint"]})
            emit("certificate_forged", forged.acquire_token_for_client(scopes=s["scopes"]))
    else:
        raise SystemExit("unknown flow %r" % flow)


if __name__ == "__main__":
    main()
