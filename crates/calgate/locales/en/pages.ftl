# calgate's pages in English: the reference catalogue. Every other catalogue has exactly these
# keys (a test checks). Keys starting with `c-` are read by the console's script, which fills in
# the `$NAME` markers itself.

## Navigation and the page frame
nav-settings = Settings
nav-sources = Sources
nav-health = Health
nav-people = Watch list
nav-logs = Logs
nav-tokens = API tokens
nav-account = Account
nav-console = Operator console
sign-out = Sign out
lang-label = Language
lang-apply = Apply

## Sign-in
login-title = Sign in
login-admin = Administrator
login-username = Username
login-password = Password
login-submit = Sign in
login-operator = Operator
login-token = Console API token
login-open-console = Open the console

## A calendar source's state
state-starting = Starting: no answer from the server yet
state-ok = OK: calendars are being read
state-degraded = Degraded: some mailboxes fail
state-throttled = Throttled: the server asked calgate to wait
state-auth-failed = Authentication failed: the credentials were refused
state-unreachable = Unreachable: the server cannot be reached
state-misconfigured = Misconfigured: the settings cannot work
state-disabled = Disabled: no calendar source is configured

## A person's status, said on the server
st-busy-until = In a meeting until { $time }

## The operator console
c-title = Operator console
c-directory = Directory
c-search-label = Search by name, email or extension
c-search-placeholder = Type a name, email or extension…
c-people = People
c-connecting = connecting…
c-no-one = No one matches.
c-hint = Type to search, ↑ ↓ to move, Enter to open.
c-live = live
c-reconnecting = reconnecting…
c-signed-out = signed out
c-free-until = Free until $TIME
c-free = Free
c-free-rest = Free for the rest of today
c-busy-until = In a meeting until $TIME
c-busy = In a meeting
c-tentative-until = Tentative until $TIME
c-tentative = Tentative
c-oof-until = Out of office until $TIME
c-oof-back = Out of office, back $DAY
c-oof = Out of office
c-elsewhere-until = Working elsewhere until $TIME
c-elsewhere = Working elsewhere
c-unknown = Unknown
c-unknown-unavailable = Unknown — calendar unavailable
c-not-current = not current: read $AGO
c-not-read = not read yet
c-just-now = just now
c-s-ago = $N s ago
c-min-ago = $N min ago
c-h-ago = $N h ago
c-never = never
c-next-free = Next free
c-now = Now
c-teams = Teams
c-pres-in-a-call = In a call
c-pres-in-a-conference-call = In a conference call
c-pres-in-a-meeting = In a meeting (Teams)
c-pres-presenting = Presenting
c-pres-do-not-disturb = Do not disturb
c-pres-busy = Busy
c-pres-away = Away
c-pres-be-right-back = Be right back
c-pres-available = Available
c-pres-offline = Offline
c-pres-unknown = presence unknown
c-pres-other = $VALUE
c-private = Private appointment
c-subject-hidden = (subject hidden)
c-why-unknown = Why unknown
c-data = Data
c-as-of = as of $AGO
c-stale-note = stale: the calendar could not be read recently
c-error-note = the calendar could not be read
c-out-of-office = Out of office
c-until-day = until $DAY.
c-working-hours = Working hours
c-your-time = your time
c-today = Today
c-no-data = Unknown: no calendar data.
c-no-appointments = No appointments today.
c-all-day = all day
c-extension = extension
c-search-failed = search failed: $ERROR
c-could-not-load = Could not load $EMAIL: $ERROR

## The Health page
h-title = Health
h-retried = Retry requested: calgate tries once now. Reload in a few seconds to see the outcome.
h-source-default = Calendar source
h-state-code = state code, for support
h-since = In this state since
h-last-success = Last success
h-next-attempt = Next attempt
h-error-code = Error code
h-message = Message
h-guard = Lockout guard
h-guard-holding = Holding further sign-ins until the next attempt, so a wrong password does not lock the account.
h-likely-cause = Likely cause:
h-what-to-do = What to do:
h-retry-now = Retry now
h-auth-title = Why the account may have been refused
h-auth-intro = The Microsoft account calgate uses was refused. Exchange locks such an account within seconds when it keeps failing, so check these, in order:
h-details = Details:
h-all-sources = All sources
h-col-source = Source
h-col-state = State
h-col-code = Code
h-sources-help = Settings, "Retry now" and the routing of each source are on the page
h-mb-title = Mailboxes by freshness
h-fresh = fresh
h-stale = stale
h-with-errors = with errors
h-not-read = not read yet
h-failing-title = Mailboxes that fail
h-failing-help = Shown as unknown on the console until the cause is fixed; the first ones by address (all of them:
h-col-person = Person
h-col-why = Why
h-col-what = What to do
h-source-word = source
h-err-title = Recent errors and warnings
h-err-help = Current problems first; those a later success ended are marked resolved.
h-none = None in the log files.
h-col-time = Time
h-col-level = Level
h-resolved = resolved

## Times in words
rel-just-now = just now
rel-s = { $n } s
rel-min = { $n } min
rel-h = { $n } h
rel-days = { $n } days
rel-ago = { $amount } ago
rel-in = in { $amount }
rel-never = never

## Dates on the server-rendered pages: short names separated by spaces, Monday first
date-weekdays = Mon Tue Wed Thu Fri Sat Sun
date-months = Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec
date-day-time = { $weekday } { $day } { $month } { $time }
date-times-note = Times on this page are in the site's time zone, { $zone }. The operator console shows them in your browser's time zone.
h-due-now = now (was due { $when })
h-regular = on the regular schedule

## The Logs page
l-at-least = Show at least
l-filter = Filter
l-download = Download the log files (JSON lines)
l-none = No entries at this level or above in the log files.

## The Account page
a-title = Account
a-change-title = Change the administrator password
a-after-change = After the change this browser stays signed in; every other browser signed in with the old password is signed out.
a-current = Current password
a-new = New password
a-new-help = At least 12 characters, not the current password. A passphrase of a few words is easy to type and hard to guess.
a-confirm = New password again
a-submit = Change password

## The API tokens page
t-title = API tokens
t-title2 = API tokens
t-copy-now = Copy it now: it is shown only this once.
t-copy = Copy
t-tokens = Tokens
t-none = No tokens.
t-col-label = Label
t-col-role = Role
t-col-created = Created
t-col-used = Last used
t-revoke = Revoke
t-new = New token
t-label = Label (who uses it)
t-role = Role
t-role-console = read people and status
t-role-admin = everything
t-create = Create

## The Watch list page
p-title = Watch list
p-title2 = Watch list
p-watched = people watched
p-search = Search
p-search-ph = name, email or extension
p-data = Data
p-everyone = everyone
p-failing = failing
p-not-current = not current
p-not-read = not read yet
p-current = current
p-search-button = Search
p-add = Add a person
p-import = Import
p-rows = One person per line: email, name, extension
p-skip = skip invalid rows
p-preview = Preview
p-import-button = Import

## The Sources page
s-title = Sources
s-title2 = Sources
s-cancel = Cancel
s-list = Calendar sources
s-col-provider = Provider
s-col-routed = Routed here
s-nothing = nothing
s-routing = Routing
s-routing-help = Which source reads whose calendar: a mailbox's own rule wins over its domain's rule, which wins over the default source.
s-default = Default source
s-domains = Domain rules
s-mailboxes = Mailbox rules
s-save-routing = Save routing
s-add = Add a source
s-id = Source id
s-id-help = 1 to 32 of a-z, 0-9 and -. The routing names it; it does not change later.
s-name = Display name
s-continue = Continue to its settings
s-created = The source is created when its settings are first saved.

## Health: Graph change notifications
h-notif-title = Change notifications (Microsoft Graph)
h-notif-help = Microsoft Graph tells calgate when a calendar changes; everyone is still read at the safety sweep, and people without a working subscription at the refresh interval.
h-notif-subscriptions = live subscriptions
h-notif-received = notifications received
h-notif-accepted = acted on
h-notif-dropped = dropped (wrong clientState, unknown subscription or unreadable)
h-notif-renewed = renewals
h-notif-failed = subscriptions that could not be made (those people are read at the refresh interval)
h-notif-delay = on average from a notification to the new status
h-cluster-title = Gateways on this database
h-cluster-db-ok = The database answers.
h-cluster-db-down = The database cannot be reached: this gateway fetches nothing until it is back.
h-cluster-id = Gateway
h-cluster-address = Address
h-cluster-leases = Shard leases
h-cluster-heartbeat = Last heartbeat
h-cluster-this = this one
