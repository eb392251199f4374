# calgate: settings words (en)
# The Settings page: the calendar-source form, the connection test and the device-code sign-in.
# A field's label and help (`set-<field>-label`, `set-<field>-help`) are, in English, exactly the
# settings crate's field table (a test checks); other languages translate them freely.

## The page
set-title = Calendar Integration Settings
set-source-title = Source { $id }
set-source-new = new: it is created when you save
set-all-sources = All sources
set-saved = Settings saved and applied.
set-warnings = Warnings
set-warning = Warning:
set-group-source = Source
set-display-name = Display name
set-display-name-help = How the Sources and Health pages name this source. Its id, { $id }, is what the routing names and does not change.
set-show-fields = Show the fields for this provider
set-save = Save
set-nothing-saved = Nothing was saved: { $count ->
        [one] { $count } field needs
       *[other] { $count } fields need
    } attention.
set-nothing-tested = Nothing was tested: { $count ->
        [one] { $count } field needs
       *[other] { $count } fields need
    } attention.
set-db-refused = The database refused the save: { $error }

## The groups of the form
set-group-provider = Calendar source
set-group-auth = Authentication
set-group-exchange = Exchange server
set-group-refresh = Refresh and privacy
set-group-advanced = Advanced connection settings

## The fields
set-provider-label = Provider
set-provider-help = Exchange on-premises: your own Exchange server over EWS. Office 365 (EWS): Exchange Online over EWS (blocked by default from 1 Oct 2026, switched off 1 Apr 2027). Microsoft 365 (Graph): Exchange Online over Microsoft Graph (recommended for Exchange Online).
set-grant-basic-auth-label = Grant Basic Authentication
set-grant-basic-auth-help = Sign in to EWS with the service account's username and password. Exchange Online has refused Basic authentication since 2022. With exchange, Basic is also used when neither grant is set.
set-grant-modern-auth-label = Grant Modern Authentication
set-grant-modern-auth-help = Sign in with OAuth2 against Entra ID as the service account (delegated). Needs the Directory (tenant) ID and the Application (client) ID. When both grants are set, modern authentication is used and Basic only if the server offers no Bearer sign-in at all. With microsoft365 and no client secret or certificate, this selects the delegated sign-in.
set-grant-windows-auth-label = Grant Windows Authentication (NTLM/Negotiate)
set-grant-windows-auth-help = Sign in to on-premises EWS with Windows authentication, as a default Exchange 2013-2019/SE offers it with Basic switched off: NTLMv2, alone or inside Negotiate, whichever the server offers. Username as DOMAIN\user or as a UPN. Kerberos is not used. When several grants are set they are tried in the order modern, Windows, Basic, only among what the server offers.
set-tenant-id-label = Directory (tenant) ID
set-tenant-id-help = The Entra ID tenant: its GUID or one of its verified domain names (contoso.onmicrosoft.com).
set-tenant-id-placeholder = GUID or contoso.onmicrosoft.com
set-client-id-label = Application (client) ID
set-client-id-help = The GUID of the app registration calgate signs in with.
set-username-label = Username
set-username-help = The service account (user@contoso.com, or DOMAIN\user on premises). Give it only the rights it needs to read free/busy information.
set-password-label = Password
set-password-help = The service account's password. Write-only: it is stored encrypted and never shown again. Leave empty to keep the stored one.
set-client-secret-label = Client secret
set-client-secret-help = For microsoft365 app-only access: a client secret of the app registration. Write-only.
set-client-certificate-pem-label = Client certificate (PEM)
set-client-certificate-pem-help = For microsoft365 app-only access: the certificate uploaded to the app registration and its unencrypted private key, both in PEM. Used instead of the client secret when both are set. Write-only.
set-exchange-version-label = Exchange version
set-exchange-version-help = The oldest Exchange version among your servers; it decides the request format and whether out-of-office texts can be read (2010 or newer). Choose 2013 SP1 for 2016, 2019, Subscription Edition and Exchange Online.
set-ews-url-label = EWS URL
set-ews-url-help = The Exchange Web Services endpoint, such as https://mail.contoso.com/EWS/Exchange.asmx. Required for exchange; office365 defaults to https://outlook.office365.com/EWS/Exchange.asmx.
set-refresh-interval-s-label = Data refresh interval (s)
set-refresh-interval-s-help = How often every watched calendar is read again; it bounds how late a calendar edit is seen (meeting starts and ends are shown at the second regardless). Below 60 s risks throttling and account lockouts.
set-presence-label = Teams presence
set-presence-help = Also read each watched person's Microsoft Teams presence (In a call, In a meeting, Do not disturb…) and show it beside the calendar status. Needs the application permission Presence.Read.All; presence never changes the calendar status.
set-presence-interval-s-label = Presence refresh interval (s)
set-presence-interval-s-help = How often Teams presence is read, 650 people per request.
set-change-notifications-label = Change notifications
set-change-notifications-help = Let Microsoft Graph tell calgate the moment a calendar changes (a subscription per watched mailbox) instead of reading every calendar at each refresh; everyone is still read at the safety sweep. Needs an app registration with an application permission to read calendars, and a notification URL Graph can reach.
set-notification-url-label = Notification URL
set-notification-url-help = This gateway's public address as Microsoft Graph reaches it, such as https://calgate.contoso.com; Graph posts to /api/v1/notifications/graph under it.
set-notification-sweep-s-label = Safety sweep interval (s)
set-notification-sweep-s-help = With change notifications on, how often every calendar is still read, so a lost notification costs at most this long. Mailboxes without a working subscription are read at the data refresh interval.
set-privacy-label = Privacy
set-privacy-help = What operators see of an event: status_only, subject, or subject_and_location. Private events always show as "Private appointment".
set-allow-insecure-http-label = Allow insecure http://
set-allow-insecure-http-help = Permit plain http:// URLs (test labs only): passwords and calendar data then travel unencrypted.
set-authority-host-label = Entra ID authority host
set-authority-host-help = Where sign-ins go: https://login.microsoftonline.com, or a national cloud's authority. Empty restores the default.
set-graph-endpoint-label = Microsoft Graph endpoint
set-graph-endpoint-help = https://graph.microsoft.com, or a national cloud's Graph endpoint. Empty restores the default.
set-extra-ca-pem-label = Extra trusted CA certificates (PEM)
set-extra-ca-pem-help = Certificates of a private certificate authority to trust in addition to the public ones (an on-premises Exchange with an internal CA).
set-status-rules-label = Status rules
set-status-rules-help = How events show to operators: tentative (tentative, busy or free), working_elsewhere (working_elsewhere, free or busy), and ignore_all_day_free (all-day events marked free do not change the status).
set-rule-tentative = Tentative events show as
set-rule-elsewhere = Working elsewhere shows as
set-rule-all-day-free = Ignore all-day events marked free

## The choices of the lists (product names such as "Office 365 (EWS)" are not translated)
set-choice-exchange = Exchange on-premises
set-choice-exchange2013-sp1 = Exchange 2013 SP1 or newer
set-choice-status-only = Status only
set-choice-subject = Subject
set-choice-subject-location = Subject and location
set-choice-tentative = Tentative
set-choice-busy = Busy
set-choice-free = Free
set-choice-working-elsewhere = Working elsewhere

## Write-only fields
set-secret-set = set
set-secret-not-set = not set
set-secret-keep = set — leave empty to keep
set-secret-clear = clear

## Field errors, found by their English text: each English value here is exactly what the
## settings crate says (a test checks the usual ones)
set-err-whole-seconds = expected a whole number of seconds
set-err-refresh-range = must be between 10 and 86400 seconds
set-err-presence-range = must be between 10 and 3600 seconds
set-err-sweep-range = must be between 300 and 86400 seconds
set-err-url-query = must not contain a ?query
set-err-notification-url-required = is required for change notifications (this gateway's public address, such as https://calgate.contoso.com)
set-err-tenant-id = must be the tenant's GUID or one of its domain names (contoso.onmicrosoft.com)
set-err-client-id = must be a GUID such as 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
set-err-tenant-required-graph = Directory (tenant) ID is required for microsoft365
set-err-tenant-required-modern = Directory (tenant) ID is required for modern authentication
set-err-client-required-graph = Application (client) ID is required for microsoft365
set-err-client-required-modern = Application (client) ID is required for modern authentication
set-err-username-long = must be at most 256 characters
set-err-control-chars = must not contain control characters
set-err-username-basic = the service account's username is required for Basic authentication
set-err-username-windows = the service account's username is required for Windows authentication
set-err-password-basic = the service account's password is required for Basic authentication
set-err-password-windows = the service account's password is required for Windows authentication
set-err-windows-domain = the domain before \ is empty: write DOMAIN\user or a UPN
set-err-windows-user = the user after \ is missing: write DOMAIN\user or a UPN
set-err-windows-name = Windows authentication needs DOMAIN\user or a UPN (user@domain)
set-err-office365-grant = office365 needs modern authentication (recommended) or Basic granted
set-err-graph-basic = Microsoft Graph does not accept Basic authentication; turn it off for microsoft365
set-err-windows-provider = Windows authentication is for on-premises Exchange (provider exchange); Exchange Online and Microsoft Graph do not offer it
set-err-graph-sign-in = app-only access needs a client secret or a client certificate (or grant modern authentication for a delegated sign-in)
set-err-ews-url-required = is required for exchange (such as https://mail.contoso.com/EWS/Exchange.asmx)
set-err-url-absolute = must be an absolute URL such as https://…
set-err-url-scheme = must start with https://
set-err-url-credentials = must not contain a user name or password
set-err-url-fragment = must not contain a #fragment
set-err-url-https = must use https:// (http:// needs allow_insecure_http)
set-err-url-metadata = must not point at a link-local address or a cloud metadata service
set-err-key-encrypted = the private key is encrypted; paste it without a passphrase
set-err-no-certificate = no certificate found (-----BEGIN CERTIFICATE-----)
set-err-no-private-key = no private key found (-----BEGIN PRIVATE KEY-----)
set-err-ca-has-key = holds a private key; paste only the CA certificates
set-err-pem-none = no PEM block (-----BEGIN …-----) found
set-err-pem-unterminated = a PEM block has no matching -----END …----- line
set-err-pem-base64 = a PEM block's body is not valid base64
set-err-pem-der = a PEM block does not hold DER data
set-err-reentry-password = the server changed: enter the password again (a saved password is only sent to the server it was entered for)
set-err-reentry-client-secret = the server changed: enter the client secret again (a saved client secret is only sent to the server it was entered for)
set-err-reentry-certificate = the server changed: enter the client certificate again (a saved client certificate is only sent to the server it was entered for)
set-err-display-name-long = a display name is at most 64 characters
set-err-display-name-control = a display name has no control characters

## Warnings of a save or a test, by their code
set-warn-both-auth = Both Basic and modern authentication are granted. Modern authentication is used; Basic only when the server does not offer Bearer sign-in at all, never after a credential failure.
set-warn-windows-order = Several sign-ins are granted. They are tried in the order { $order }, each only when the server does not offer the one before it, never after a credential failure.
set-auth-modern = modern
set-auth-windows = Windows
set-auth-basic = Basic
set-auth-then = { $first }, then { $next }
set-warn-basic-online = Exchange Online has refused Basic authentication since Microsoft switched it off in 2022; grant modern authentication instead.
set-warn-ews-retirement = Exchange Online blocks EWS by default from 1 October 2026 and switches it off on 1 April 2027. Switch to the microsoft365 provider (Microsoft Graph) before then.
set-warn-refresh-low = A refresh interval of { $interval } s is below { $min } s: Exchange may throttle calgate, and with a wrong password the service account can be locked out within seconds.
set-warn-ews-path = The EWS URL's path { $path } does not end in /EWS/Exchange.asmx. It is saved; check that it is the Exchange Web Services endpoint.
set-warn-insecure-http = { $count ->
        [one] { $fields } uses
       *[other] { $fields } use
    } plain http://: the password, tokens and calendar data travel unencrypted. Use it only in a test lab.
set-warn-local-target = { $count ->
        [one] { $fields } points
       *[other] { $fields } point
    } at this machine itself (loopback). Saved; make sure that is meant, such as a local proxy or a test lab.

## The device-code sign-in
set-device-title = Device-code sign-in
set-device-help = Sign calgate in once as the service account at Microsoft's page (MFA included) instead of storing its password. Uses the Directory (tenant) ID and Application (client) ID saved above.
set-device-only = The device-code sign-in is offered for the source { $id } only. For this source, save the service account's username and password with Grant Modern Authentication, or use Microsoft 365 (Graph) with an app secret or certificate.
set-device-open = Open { $uri } and enter the code { $code } before { $expires }.
set-device-again = Start again
set-device-start = Start device-code sign-in
set-device-none = Not started.
set-device-pending = Waiting for you to enter the code at Microsoft's sign-in page…
set-device-done = Signed in. calgate reads calendars with this sign-in.
set-device-done-as = Signed in as { $user }. calgate reads calendars with this sign-in.
set-device-expired = The code expired before it was entered. Start again.
set-device-declined = The sign-in was declined at Microsoft's page.
set-device-failed = Entra ID refused the sign-in: { $code } { $message }

## Test connection
set-test-title = Test connection
set-test-help = One real request for one mailbox with the values in the form above, saved or not (nothing is saved by a test). Without a mailbox, the first watched person this source serves is used.
set-test-mailbox = Mailbox
set-test-run = Test connection
set-tested-unsaved = Tested with the values in the form; they are not saved until you press Save.
set-test-connected = Connected: { $provider } answered for { $mailbox } in { $ms } ms.
set-test-failed = Failed for { $mailbox } after { $ms } ms.
set-test-status-now = Status now
set-test-until = until
set-test-events-today = Events today
set-test-code = Error code
set-test-message = Message
set-test-cause = Likely cause
set-test-fix = What to do
set-test-need-mailbox = Enter the email address of a mailbox to test with.
set-test-limit = At most { $max } connection tests a minute. Try again in { $wait } s.
set-test-not-saved = The source { $id } is not saved yet: save its settings, then test the connection.

## Recent changes
set-history-title = Recent changes
set-history-no-change = no change
set-history-removed = source removed
