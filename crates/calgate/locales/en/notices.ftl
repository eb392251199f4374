# calgate: notices and confirmations (en)
# What the pages say after an action: notices, refusals, field errors and the questions asked
# before a removal. Plain text (the pages escape it). Keys start with `n-`.

## Shared words
n-db-no-answer = The database did not answer: { $error }
n-db-refused = The database refused: { $error }
n-db-refused-op = The database refused the operation: { $error }
n-shutting-down = The gateway is shutting down.
n-col-actions = Actions
n-add = Add
n-edit = Edit
n-save = Save
n-remove = Remove
n-reset = Reset

## Refusals before any page (plain text answers)
n-session-ended = your session has ended: sign in again
n-admin-only = this page is for the administrator; operators use the console
n-cross-site = cross-site request refused
n-form-too-large = form too large
n-csrf-refused = missing or wrong form token (CSRF): reload the page and try again

## Sign-in
n-login-wrong = Wrong username or password.
n-login-bad-token = That token is not valid.
n-login-too-many = Too many failed sign-ins. Try again in { $secs } s.

## The Account page
# Shown as: "Signed in as <user> with the administrator password."
n-pw-signed-in-as = Signed in as
n-pw-with-password = with the administrator password.
n-pw-with-token = with an admin API token.
n-pw-not-changed = The password was not changed.
n-pw-enter-current = Enter your current password.
n-pw-too-short = Use at least { $min } characters.
n-pw-too-long = Use at most { $max } bytes.
n-pw-same = Choose a password other than the current one.
n-pw-differ = The two new passwords differ: type the same one twice.
n-pw-no-admin = No administrator account is set up.
n-pw-too-many = Too many wrong passwords. Try again in { $secs } s.
n-pw-wrong-current = That is not the current password.
n-pw-db-refused = The database refused: { $error }. The password was not changed.
n-pw-changed = Password changed. Other browsers signed in with the old one are signed out.

## The API tokens page
n-token-label = Give the token a label of 1 to 100 characters (who uses it).
n-token-created = Token "{ $label }" created.
n-token-revoked = Revoked "{ $label }".
n-token-gone = That token no longer exists.

## The Watch list page
n-person-too-long = Use at most { $max } printable characters.
n-person-name-needed = Give a name: the address is too long to be shown as one.
n-person-ext-spaces = An extension has no spaces (2001, +49 30 1234 as +49301234).
n-person-not-watched = { $email } is not on the watch list.
n-person-failed = failed
n-person-not-email = Not an email address: enter the person's mailbox address.
n-person-not-added = { $email } was not added: { $problem }
n-person-added = Added { $email }.
n-person-edit-gone = { $email } is not on the watch list: nothing was saved.
n-person-edit-refused = Nothing was saved for { $email }: see the form.
n-person-saved = Saved { $email }.
n-person-removed = Removed { $email }.
n-person-remove-gone = { $email } was not on the watch list.
n-person-edit-label = Edit { $email }
n-person-remove-label = Remove { $email }
n-person-key-help = The address is the key: to change it, remove the person and add the new address.
n-person-first = Showing the first { $count }; search to find others.
n-col-name = Name
n-col-email = Email
n-col-extension = Extension
n-col-line = Line
n-col-ext-short = Ext.
n-col-problem = Problem
n-import-ok = ok
n-import-not-email = not an email address
n-import-columns = more than three columns (email, name, extension)
n-import-ext-spaces = the extension has spaces
n-import-twice = listed twice
n-import-too-long = the name or extension is too long, or holds control characters
n-import-malformed = the CSV cannot be read from here on (a quote is not closed)
n-import-too-many = more than 200 000 rows; the rest was not read
n-import-summary = { $ok } valid, { $bad } with errors.
n-imported = { $count ->
        [one] Imported { $count } person
       *[other] Imported { $count } people
    }; { $total } on the watch list now.
n-import-refused = Nothing was imported: { $bad ->
        [one] { $bad } row needs
       *[other] { $bad } rows need
    } fixing (or tick "{ p-skip }").
n-import-empty = Paste one person per line: email, name, extension.

## The Sources page
# What routes a source: "default source, 2 domains, 1 mailbox".
n-routes-default = default source
n-routes-domains = { $count ->
        [one] { $count } domain
       *[other] { $count } domains
    }
n-routes-mailboxes = { $count ->
        [one] { $count } mailbox
       *[other] { $count } mailboxes
    }
n-src-not-configured = { $id } (not configured)
n-src-no-such = No such source: { $problem }.
n-src-unknown-id = No source has the id { $id }.
n-src-id-refused = The source id is refused: { $problem }.
n-src-id-exists = A source with the id { $id } exists already: open its settings from the list.
n-src-name-placeholder = Exchange on premises
n-src-reset-done = Reset the source { $id }: its settings and stored secrets are cleared.
n-src-removed = Removed the source { $id } with its stored secrets.
n-src-reset-in-use = The source { $id } was not reset: the routing still names it ({ $routes }). Route its domains and mailboxes to another source (and choose another default source) first.
n-src-remove-in-use = The source { $id } was not removed: the routing still names it ({ $routes }). Route its domains and mailboxes to another source (and choose another default source) first.
n-src-reset-failed = The source { $id } was not reset: { $error }
n-src-remove-failed = The source { $id } was not removed: { $error }
n-src-retry = Retry requested: the source { $id } tries once now. Reload in a few seconds.
n-src-reset-label = Reset { $id }
n-src-remove-label = Remove { $id }
# The question asked before a source is removed (or `default` reset).
n-confirm-reset-title = Reset the source { $id }?
n-confirm-reset-body = Its settings and stored secrets are cleared; it stays in the list, unconfigured, until you save new settings.
n-confirm-remove-title = Remove the source { $id }?
n-confirm-remove-body = Its settings and stored secrets are deleted.
# Shown in bold, followed by n-confirm-routed-reset or n-confirm-routed-remove.
n-confirm-routed = The routing still names it
n-confirm-routed-reset = ({ $routes }): route those elsewhere first, or the reset is refused.
n-confirm-routed-remove = ({ $routes }): route those elsewhere first, or the removal is refused.
n-confirm-reset-yes = Yes, reset { $id }
n-confirm-remove-yes = Yes, remove { $id }

## The routing editor
n-routing-saved = Routing saved and applied.
n-routing-not-saved = The routing was not saved: { $error }
n-routing-errors = Nothing was saved: { $count ->
        [one] { $count } route needs
       *[other] { $count } routes need
    } attention.
n-route-domain = Domain { $domain }
n-route-mailbox = Mailbox { $mailbox }
n-route-line-domain = line { $line }: write it as domain = source-id
n-route-line-address = line { $line }: write it as address = source-id
n-route-twice = line { $line }: { $key } is listed twice
# Shown as: "One rule a line: domain = source-id. Configured sources: default, lab."
n-rule-a-line = One rule a line:
n-rule-domain = domain = source-id
n-rule-address = address = source-id
n-rule-configured = Configured sources: { $ids }.
# Follows "One rule a line: address = source-id," on the page.
n-rule-address-why = for mailboxes that are not where their domain is.
