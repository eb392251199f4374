# calgate: directories (en)
# The Directories page (the directories the watch list is synced from: Entra ID through Graph,
# or LDAP / Active Directory), and the words of directory sync on Health and the Watch list.
# Plain text (the pages escape it). Keys start with `dir-`.

## The page frame
dir-nav = Directories
dir-title = Directories

## The list
dir-list = Synced directories
dir-list-help = The watch list follows these directories: a sync adds their people, updates names and extensions, and removes those who left. People added by hand or imported are never touched.
dir-none = No directory yet. Add one below.
dir-col-directory = Directory
dir-col-last-sync = Last sync
dir-col-counts = Changes
dir-col-changes = What changes
dir-col-added = Added
dir-col-updated = Updated
dir-col-removed = Removed
dir-col-held = Held
dir-added = added
dir-updated = updated
dir-removed-count = removed
dir-held-count = held
dir-unchanged = unchanged
dir-warnings = Warnings
dir-warnings-count = { $count ->
        [one] { $count } warning
       *[other] { $count } warnings
    }
dir-never = never synced
dir-syncing = syncing now
dir-kind-graph = Entra ID (Microsoft Graph)
dir-kind-ldap = LDAP or Active Directory
dir-status-ok = Synced
dir-status-held = Removals held
dir-status-failed = Failed
dir-test = Test
dir-sync-now = Sync now
dir-first-sync = A new directory is not synced on its own: test it, preview it and sync it the first time yourself. After that it syncs at its interval.

## A held sync
dir-held-title = { $id }: { $count ->
        [one] { $count } removal waits
       *[other] { $count } removals wait
    } for your confirmation
dir-held-body = The last sync would remove more of the directory's people than its limit allows, so nobody was removed. If they really left, confirm the removals; if not, fix the filter or the base DN and sync again.
dir-held-confirm = Confirm removals
dir-held-help = Cancel removes nobody and changes nothing: the next sync holds the same removals again.
dir-held-who = Who would leave (the first ones)
dir-held-kept = Nothing was removed from { $id }: everyone stays on the watch list, and the removals stay held until you confirm them or fix the directory.

## Removing a directory
dir-confirm-remove-title = Remove the directory { $id }?
dir-confirm-remove-body = Its settings and bind password are deleted. Its people stay on the watch list, as if added by hand.
dir-confirm-remove-yes = Yes, remove { $id }
dir-removed = Removed the directory { $id }; its people stay on the watch list.

## Test, preview and sync
dir-test-title = Test of { $id }: the first people it lists
dir-test-ok = { $id } answered. These are its first people as the watch list would hold them:
dir-test-caption = The first people the directory lists
dir-preview-title = Preview of { $id }: what a sync would change
dir-outcome-title = Sync of { $id }
dir-preview-adds = Would be added
dir-preview-updates = Would be updated
dir-preview-removals = Would leave the watch list
dir-preview-held = More of the directory's people would go than its limit allows: a sync holds these removals until you confirm them.
dir-preview-first = Only the first ones are listed; the counts above are complete.
dir-preview-ok = Ready: nothing was changed yet
dir-preview-would-hold = A sync would hold the removals
dir-preview-failed = The preview of { $id } failed: { $cause }
dir-sync-failed = The sync of { $id } failed: { $cause } Nothing was changed.
dir-synced = Synced { $id }: { $added } added, { $updated } updated, { $removed } removed, { $unchanged } unchanged.
dir-synced-held = Synced { $id }: { $added } added, { $updated } updated; { $held ->
        [one] { $held } removal is
       *[other] { $held } removals are
    } held until you confirm.
dir-field-source = Source
dir-field-id = directory id
dir-unknown = No directory has the id { $id }.
dir-running = A sync of { $id } is running; try again when it ends.

## The form
dir-add-title = Add a directory
dir-edit-title = Edit the directory { $id }
dir-graph-legend = Entra ID (Microsoft Graph) only
dir-ldap-legend = LDAP or Active Directory only
dir-mapping-legend = Attributes
dir-mapping-help = Which attribute holds each part of a person. Leave empty for the defaults shown.
dir-schedule-legend = Schedule and safety
dir-f-id-label = Directory id
dir-f-id-help = 1 to 32 of a-z, 0-9 and -. The Watch list names the people's origin by it; it does not change later.
dir-f-name-label = Display name
dir-f-name-placeholder = Head office
dir-f-name-help = How the pages name this directory.
dir-f-kind-label = Kind
dir-f-kind-help = Where the people come from.
dir-f-source-label = Graph source
dir-f-source-help = The Microsoft 365 (Graph) source whose app registration reads the directory; it needs the User.Read.All application permission (and GroupMember.Read.All for a group).
dir-f-source-none = No Microsoft 365 (Graph) source is configured yet: add one on the Sources page first.
dir-f-group-id-label = Group object ID
dir-f-group-id-help = Only the members of this group, nested groups included. Empty: everyone with a mailbox.
dir-f-url-label = LDAP URL
dir-f-url-help = ldaps://server:636, or ldap://server:389 with StartTLS.
dir-f-starttls-label = Use StartTLS (for ldap:// URLs)
dir-f-allow-insecure-ldap-label = Allow plain LDAP without encryption
dir-f-allow-insecure-ldap-warning = Without LDAPS or StartTLS the bind password and everyone's details cross the network in clear. Use it in a test lab only.
dir-f-bind-dn-label = Bind DN
dir-f-bind-dn-help = The account calgate reads the directory with. It needs read access to the people, nothing more.
dir-f-bind-password-label = Bind password
dir-f-bind-password-help = Stored sealed and never shown again. A refused password is tried once; the lockout guard holds further binds so the account is not locked.
dir-f-base-dn-label = Base DN
dir-f-base-dn-help = Where the search starts; everything below it is searched.
dir-f-filter-label = Filter
dir-f-filter-help = Which entries are people to watch. Empty: Active Directory's default (people with a mailbox whose account is enabled).
dir-preset-ad = Active Directory default
dir-preset-plain = Any entry with a mail address
dir-f-extra-ca-pem-label = Extra trusted CA certificates (PEM)
dir-f-extra-ca-pem-help = The CA that signed the server's certificate, when it is a private one.
dir-f-attr-email-label = Email attribute
dir-f-attr-name-label = Name attribute
dir-f-attr-extension-label = Extension attribute
dir-f-attr-extension-help = For Graph: businessPhones (its first number), mobilePhone or extensionAttribute1 to 15; for LDAP any attribute, such as telephoneNumber or ipPhone.
dir-f-attr-source-label = Source attribute (hybrid)
dir-f-attr-source-help = An attribute whose value names the calendar source that reads the person's mailbox. Empty: the routing decides.
dir-f-sync-interval-s-label = Sync interval (seconds)
dir-f-sync-interval-s-help = From 300 (5 minutes) to 604800 (7 days). 3600 is an hour.
dir-f-max-removal-percent-label = Largest share one sync may remove (%)
dir-f-max-removal-percent-help = A sync that would remove more of the directory's people than this holds the removals until you confirm them, so a wrong filter cannot empty the watch list.
dir-created = Added the directory { $id }. Test it, preview it, then sync it the first time.
dir-saved = Saved the directory { $id }.
dir-password-retype = The bind password was not kept: type it again.
dir-id-refused = The directory id is refused: { $problem }.
dir-id-exists = A directory with the id { $id } exists already: edit it from the list.

## Field errors (the first ones are the validator's English messages, word for word)
dir-err-name = at most 64 characters, no control characters
dir-err-attribute = an attribute name: letters, digits, '-' and ';'
dir-err-source-missing = the id of the Graph source to use
dir-err-group = a group's object ID (a GUID)
dir-err-url = an ldaps:// or ldap:// URL
dir-err-starttls = StartTLS is for ldap:// URLs; ldaps:// is encrypted already
dir-err-plain = a plain ldap:// bind sends the password in clear: use ldaps://, tick StartTLS, or allow insecure LDAP explicitly
dir-err-password-needed = the bind DN's password is needed
dir-err-base = the DN the search starts from
dir-err-ldap-string = at most 4096 characters, no control characters
dir-err-filter = an LDAP filter in parentheses, such as (mail=*)
dir-err-interval = a whole number of seconds from 300 to 604800
dir-err-percent = a percent from 0 to 100
dir-err-password-long = at most 1024 bytes
dir-err-no-graph-source = no Graph source has the id { $id }

## Health
dir-open-page = Open Directories
dir-health-held = Removals wait for your confirmation.

## The Watch list
dir-col-origin = Origin
dir-origin-manual = Added by hand
dir-origin-import = Import
dir-import-file = Or choose a CSV file
dir-import-file-help = Read as UTF-8 into the box above and previewed; nothing is saved until you press Import.
dir-import-file-too-large = The file is too large for one import (about 2 MB at most): split it.
dir-import-file-unreadable = The file could not be read.
