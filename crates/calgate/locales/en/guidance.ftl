# calgate: guidance words (en)
# What probably happened and what to do about it, for the error codes an administrator meets
# (`g-…`), the three likely reasons behind a refused service account (`g-auth-…`), and why each
# settings warning matters (`gw-…`). Plain text: the pages escape it.

## Error codes: likely cause and what to do
g-unreadable-cause = The server answered in a way calgate could not use.
g-unreadable-fix = See the message and the Logs page for details; test again after fixing.
g-credentials-refused-cause = The server refused the service account's credentials (wrong or changed password, locked account, or the sign-in method is not allowed).
g-credentials-refused-fix = Check the username and password (or the tenant, client ID and secret), save them again, and test. If the account was locked, wait for the lock to clear first.
g-account-blocked-cause = Entra ID reports the account as locked, disabled or blocked by policy.
g-account-blocked-fix = Ask your Microsoft 365 administrator to unlock or enable the service account, or to exempt it from the conditional-access policy that blocks it.
g-admin-consent-cause = The app registration has not been granted admin consent.
g-admin-consent-fix = In Entra ID, open the app registration's API permissions and grant admin consent, then test again.
g-unreachable-cause = calgate could not reach the server (name, firewall, proxy or TLS).
g-unreachable-fix = Check the EWS URL or Graph endpoint, that this machine can reach it, and that its certificate is trusted (add a private CA under Advanced).
g-throttled-cause = The server is throttling calgate: too many requests for the account.
g-throttled-fix = calgate backs off on its own. If it happens often, raise the Data refresh interval or watch fewer people with this account.
g-mailbox-unknown-cause = The server does not know this mailbox.
g-mailbox-unknown-fix = Check the email address (the primary SMTP address, not an alias).
g-no-free-busy-cause = The service account may not read this calendar's free/busy information.
g-no-free-busy-fix = Grant the account free/busy (or Calendars.Read) access to the mailbox, or the application permission for Graph app-only access.
g-exchange-version-cause = The server does not accept requests in the chosen Exchange version.
g-exchange-version-fix = Choose the oldest Exchange version among your servers under Version.
g-sign-in-missing-cause = Modern authentication is chosen, but no administrator has signed in yet (or the stored sign-in was removed).
g-sign-in-missing-fix = Sign in by device code under Calendar Integration Settings, then test again.
g-entra-refused-cause = Entra ID refused the sign-in.
g-entra-refused-aadsts-fix = Check the Directory (tenant) ID, the Application (client) ID and the account; the code names Entra ID's reason (look it up as AADSTS followed by the number).
g-entra-refused-fix = Check the Directory (tenant) ID, the Application (client) ID and the account; the code names Entra ID's reason.
g-settings-incomplete-cause = The saved settings are incomplete for the chosen provider.
g-settings-incomplete-fix = Fill in the fields the message names and save again.

## Why the service account may have been refused, in the order to check
g-auth-1-cause = The account's policy does not allow calendar reads this often.
g-auth-1-fix = Raise the Data refresh interval (300 s is a safe start) or ask for the account to be exempted from the throttling/lockout policy, then press Retry now.
g-auth-2-cause = Someone changed the service account's password, so the stored one is no longer valid.
g-auth-2-fix = Enter the new password under Calendar Integration Settings and save; calgate stops using the old one at once.
g-auth-3-cause = The credentials were changed while calgate was running, and repeated attempts with the old ones got the account locked.
g-auth-3-fix = calgate holds further attempts (the lockout guard) so the lock can expire. Save the correct credentials, wait for the lock to clear, then press Retry now.

## Why a settings warning matters
gw-both-auth-enabled = If you keep both authentications enabled, a warning is displayed once configuration is saved: modern authentication is used, and Basic only when the server offers no Bearer sign-in at all — never after a credential failure. Uncheck Basic unless you need that fallback.
gw-windows-auth-order = Windows authentication is granted beside another sign-in. The order is fixed: modern, then Windows, then Basic, each only when the server does not offer the one before it. A refused password is never tried again under another scheme.
gw-basic-auth-exchange-online = Exchange Online refuses Basic authentication, so this grant will not work there. Keep it unchecked.
gw-ews-online-retirement = Microsoft is retiring EWS in Exchange Online. Plan the move to Microsoft 365 (Graph) before the dates above.
gw-refresh-interval-low = Refreshing this often can get the service account throttled or locked — the first cause in the troubleshooting notes. Meeting starts and ends are shown at the second anyway.
gw-insecure-http = Passwords and calendar data travel unencrypted over http://. Use it in a test lab only.
gw-local-target = The address points at the gateway's own machine. That is right for a local proxy or a test lab; against a real Exchange or Microsoft 365 it is a mistake.
gw-ews-url-unusual-path = EWS URLs normally end in /EWS/Exchange.asmx; check the address if the connection test fails.

## Directory syncs: likely cause and what to do
g-dir-bind-refused-cause = The directory server refused the bind DN or its password.
g-dir-bind-refused-fix = Check the bind DN and the bind password on the Directories page and save them again. The lockout guard holds further binds with the refused password, so the account is not locked by retries.
g-dir-bind-held-cause = The bind password was refused before, and the lockout guard holds further binds with it until its next probe.
g-dir-bind-held-fix = Save the right bind password (a new password is tried at once), or wait for the guard's next probe.
g-dir-removal-held-cause = The sync would remove more of the directory's people than its limit allows, so nobody was removed.
g-dir-removal-held-fix = Review the preview: if those people really left, confirm the removals; if not, fix the filter or the base DN and sync again.
g-dir-empty-cause = The directory answered with nobody at all, so the watch list was left as it was.
g-dir-empty-fix = Check the filter, the base DN or the group: a test should list people.
g-dir-insecure-cause = A plain ldap:// connection without StartTLS would send the bind password in clear, so it was refused.
g-dir-insecure-fix = Use an ldaps:// URL or tick StartTLS; allow plain LDAP only in a test lab.
g-dir-unreachable-cause = calgate could not reach the directory server in time (name, network, firewall or port).
g-dir-unreachable-fix = Check the LDAP URL (host and port: 636 for LDAPS, 389 for StartTLS) and that this machine can reach the server.
g-dir-tls-cause = The TLS handshake with the directory server failed: its certificate is not trusted, or it does not speak TLS on that port.
g-dir-tls-fix = Add the CA that signed the server's certificate under Extra trusted CA certificates, and check the URL's port and scheme (ldaps:// or StartTLS).
g-dir-filter-cause = The LDAP filter cannot be read.
g-dir-filter-fix = Write the filter in parentheses, such as (mail=*), or choose one of the presets.
g-dir-base-cause = The base DN does not exist on the directory server.
g-dir-base-fix = Check the base DN's spelling (such as DC=contoso,DC=com), and that the bind DN may read it.
g-dir-referral-cause = The directory server sent calgate to another server, which calgate does not follow.
g-dir-referral-fix = Use the server that holds the base DN (for Active Directory a domain controller of that domain, or the global catalog on port 3269).
g-dir-search-cause = The directory server refused the search.
g-dir-search-fix = See the message; check that the bind DN may search below the base DN and that the server allows paged searches.
g-dir-skipped-cause = Some entries could not be used (no address or several, an oversized value, or a person already watched another way) and were skipped.
g-dir-skipped-fix = The warnings name each entry. Fix them in the directory, or leave them: the others are synced.
g-dir-malformed-cause = The directory's answer could not be read.
g-dir-malformed-fix = Test again; if it keeps failing, see the Logs page and check what sits between calgate and the server (a proxy or a load balancer).
g-dir-graph-source-cause = The Graph source whose app credentials this directory uses does not exist, or is not a Microsoft 365 (Graph) source.
g-dir-graph-source-fix = Choose an existing Microsoft 365 (Graph) source in the directory's form, or add one on the Sources page.
g-dir-delta-expired-cause = Microsoft Graph no longer accepted the saved changes link, so everyone was read again.
g-dir-delta-expired-fix = Nothing to do: the next syncs read only the changes again.
g-dir-group-cause = Microsoft Graph has no group with this object ID.
g-dir-group-fix = Copy the group's object ID from Entra ID (Groups, the group, Overview), or leave it empty for everyone.
