# calgate: guidance words (de)

## Error codes: likely cause and what to do
g-unreadable-cause = Der Server hat so geantwortet, dass calgate die Antwort nicht verwerten kann.
g-unreadable-fix = Einzelheiten stehen in der Meldung und auf der Seite „Protokolle“; testen Sie nach der Korrektur erneut.
g-credentials-refused-cause = Der Server hat die Zugangsdaten des Dienstkontos abgelehnt (falsches oder geändertes Kennwort, gesperrtes Konto oder nicht zugelassene Anmeldemethode).
g-credentials-refused-fix = Prüfen Sie Benutzername und Kennwort (bzw. Mandant, Client-ID und geheimen Clientschlüssel), speichern Sie sie erneut und testen Sie. Wurde das Konto gesperrt, warten Sie zuerst, bis die Sperre aufgehoben ist.
g-account-blocked-cause = Laut Entra ID ist das Konto gesperrt, deaktiviert oder durch eine Richtlinie blockiert.
g-account-blocked-fix = Bitten Sie Ihren Microsoft 365-Administrator, das Dienstkonto zu entsperren oder zu aktivieren oder es von der Richtlinie für bedingten Zugriff auszunehmen, die es blockiert.
g-admin-consent-cause = Der App-Registrierung wurde keine Administratorzustimmung erteilt.
g-admin-consent-fix = Öffnen Sie in Entra ID die API-Berechtigungen der App-Registrierung, erteilen Sie die Administratorzustimmung und testen Sie dann erneut.
g-unreachable-cause = calgate konnte den Server nicht erreichen (Name, Firewall, Proxy oder TLS).
g-unreachable-fix = Prüfen Sie die EWS-URL bzw. den Graph-Endpunkt, ob dieser Rechner ihn erreicht und ob seinem Zertifikat vertraut wird (eine private Zertifizierungsstelle fügen Sie unter „Erweiterte Verbindungseinstellungen“ hinzu).
g-throttled-cause = Der Server drosselt calgate: zu viele Anfragen für dieses Konto.
g-throttled-fix = calgate legt von selbst längere Pausen ein. Kommt das oft vor, erhöhen Sie das „Aktualisierungsintervall der Daten“ oder beobachten Sie mit diesem Konto weniger Personen.
g-mailbox-unknown-cause = Der Server kennt dieses Postfach nicht.
g-mailbox-unknown-fix = Prüfen Sie die E-Mail-Adresse (die primäre SMTP-Adresse, kein Alias).
g-no-free-busy-cause = Das Dienstkonto darf die Frei/Gebucht-Informationen dieses Kalenders nicht lesen.
g-no-free-busy-fix = Geben Sie dem Konto Zugriff auf die Frei/Gebucht-Informationen (oder Calendars.Read) des Postfachs oder erteilen Sie die Anwendungsberechtigung für den App-only-Zugriff über Graph.
g-exchange-version-cause = Der Server akzeptiert keine Anfragen in der gewählten Exchange-Version.
g-exchange-version-fix = Wählen Sie unter „Exchange-Version“ die älteste Exchange-Version Ihrer Server.
g-sign-in-missing-cause = Moderne Authentifizierung ist gewählt, aber es hat sich noch kein Administrator angemeldet (oder die gespeicherte Anmeldung wurde entfernt).
g-sign-in-missing-fix = Melden Sie sich unter „Einstellungen der Kalenderintegration“ per Gerätecode an und testen Sie dann erneut.
g-entra-refused-cause = Entra ID hat die Anmeldung abgelehnt.
g-entra-refused-aadsts-fix = Prüfen Sie die Verzeichnis-ID (Mandant), die Anwendungs-ID (Client) und das Konto; der Code nennt den Grund von Entra ID (suchen Sie nach AADSTS gefolgt von der Nummer).
g-entra-refused-fix = Prüfen Sie die Verzeichnis-ID (Mandant), die Anwendungs-ID (Client) und das Konto; der Code nennt den Grund von Entra ID.
g-settings-incomplete-cause = Die gespeicherten Einstellungen sind für den gewählten Anbieter unvollständig.
g-settings-incomplete-fix = Füllen Sie die in der Meldung genannten Felder aus und speichern Sie erneut.

## Why the service account may have been refused, in the order to check
g-auth-1-cause = Die Richtlinie des Kontos erlaubt keine so häufigen Kalenderabfragen.
g-auth-1-fix = Erhöhen Sie das „Aktualisierungsintervall der Daten“ (300 s sind ein sicherer Ausgangswert) oder lassen Sie das Konto von der Drosselungs- bzw. Sperrrichtlinie ausnehmen; klicken Sie dann auf „Jetzt erneut versuchen“.
g-auth-2-cause = Jemand hat das Kennwort des Dienstkontos geändert, das gespeicherte ist daher nicht mehr gültig.
g-auth-2-fix = Geben Sie das neue Kennwort unter „Einstellungen der Kalenderintegration“ ein und speichern Sie; calgate verwendet das alte dann sofort nicht mehr.
g-auth-3-cause = Die Zugangsdaten wurden geändert, während calgate lief, und wiederholte Versuche mit den alten haben zur Sperrung des Kontos geführt.
g-auth-3-fix = calgate hält weitere Versuche zurück (der Sperrschutz), damit die Sperre ablaufen kann. Speichern Sie die richtigen Zugangsdaten, warten Sie, bis die Sperre aufgehoben ist, und klicken Sie dann auf „Jetzt erneut versuchen“.

## Why a settings warning matters
gw-both-auth-enabled = Bleiben beide Authentifizierungen aktiviert, erscheint nach dem Speichern eine Warnung: Verwendet wird die moderne Authentifizierung, Basic nur, wenn der Server überhaupt keine Bearer-Anmeldung anbietet — nie nach abgelehnten Zugangsdaten. Deaktivieren Sie Basic, sofern Sie diese Ausweichmöglichkeit nicht brauchen.
gw-windows-auth-order = Die Windows-Authentifizierung ist neben einer anderen Anmeldung zugelassen. Die Reihenfolge ist fest: modern, dann Windows, dann Basic, jeweils nur, wenn der Server die vorherige nicht anbietet. Ein abgelehntes Kennwort wird nie mit einem anderen Verfahren erneut versucht.
gw-basic-auth-exchange-online = Exchange Online lehnt die Basic-Authentifizierung ab; diese Option funktioniert dort also nicht. Lassen Sie sie deaktiviert.
gw-ews-online-retirement = Microsoft stellt EWS in Exchange Online ein. Planen Sie den Umstieg auf Microsoft 365 (Graph) vor den oben genannten Terminen.
gw-refresh-interval-low = So häufige Aktualisierungen können dazu führen, dass das Dienstkonto gedrosselt oder gesperrt wird — die erste Ursache in den Hinweisen zur Fehlerbehebung. Beginn und Ende von Besprechungen werden ohnehin sekundengenau angezeigt.
gw-insecure-http = Kennwörter und Kalenderdaten werden über http:// unverschlüsselt übertragen. Verwenden Sie das nur in einer Testumgebung.
gw-local-target = Die Adresse zeigt auf den Rechner des Gateways selbst. Für einen lokalen Proxy oder eine Testumgebung ist das richtig; bei einem echten Exchange oder Microsoft 365 ist es ein Fehler.
gw-ews-url-unusual-path = EWS-URLs enden normalerweise auf /EWS/Exchange.asmx; prüfen Sie die Adresse, wenn der Verbindungstest fehlschlägt.

## Directory syncs: likely cause and what to do
g-dir-bind-refused-cause = Der Verzeichnisserver hat den Bind-DN oder dessen Kennwort abgelehnt.
g-dir-bind-refused-fix = Prüfen Sie Bind-DN und Bind-Kennwort auf der Seite „Verzeichnisse“ und speichern Sie beide erneut. Der Sperrschutz hält weitere Binds mit dem abgelehnten Kennwort zurück, damit Wiederholungen das Konto nicht sperren.
g-dir-bind-held-cause = Das Bind-Kennwort wurde bereits abgelehnt; der Sperrschutz hält weitere Binds damit bis zu seinem nächsten Probeversuch zurück.
g-dir-bind-held-fix = Speichern Sie das richtige Bind-Kennwort (ein neues Kennwort wird sofort versucht) oder warten Sie den nächsten Probeversuch des Sperrschutzes ab.
g-dir-removal-held-cause = Die Synchronisierung würde mehr Personen des Verzeichnisses entfernen, als seine Grenze erlaubt; deshalb wurde niemand entfernt.
g-dir-removal-held-fix = Prüfen Sie die Vorschau: Sind diese Personen wirklich gegangen, bestätigen Sie das Entfernen; andernfalls korrigieren Sie den Filter oder den Basis-DN und synchronisieren Sie erneut.
g-dir-empty-cause = Das Verzeichnis hat überhaupt niemanden geliefert; die Liste der beobachteten Personen blieb daher unverändert.
g-dir-empty-fix = Prüfen Sie Filter, Basis-DN oder Gruppe: Ein Test sollte Personen auflisten.
g-dir-insecure-cause = Eine einfache ldap://-Verbindung ohne StartTLS würde das Bind-Kennwort im Klartext senden und wurde daher abgelehnt.
g-dir-insecure-fix = Verwenden Sie eine ldaps://-URL oder kreuzen Sie StartTLS an; unverschlüsseltes LDAP erlauben Sie nur in einer Testumgebung.
g-dir-unreachable-cause = calgate konnte den Verzeichnisserver nicht rechtzeitig erreichen (Name, Netzwerk, Firewall oder Port).
g-dir-unreachable-fix = Prüfen Sie die LDAP-URL (Host und Port: 636 für LDAPS, 389 für StartTLS) und ob dieser Rechner den Server erreicht.
g-dir-tls-cause = Der TLS-Handshake mit dem Verzeichnisserver ist fehlgeschlagen: Seinem Zertifikat wird nicht vertraut, oder er spricht auf diesem Port kein TLS.
g-dir-tls-fix = Fügen Sie die Zertifizierungsstelle, die das Zertifikat des Servers signiert hat, unter „Zusätzliche vertrauenswürdige CA-Zertifikate“ hinzu, und prüfen Sie Port und Schema der URL (ldaps:// oder StartTLS).
g-dir-filter-cause = Der LDAP-Filter ist nicht lesbar.
g-dir-filter-fix = Schreiben Sie den Filter in Klammern, etwa (mail=*), oder wählen Sie eine der Vorgaben.
g-dir-base-cause = Den Basis-DN gibt es auf dem Verzeichnisserver nicht.
g-dir-base-fix = Prüfen Sie die Schreibweise des Basis-DN (etwa DC=contoso,DC=com) und ob der Bind-DN ihn lesen darf.
g-dir-referral-cause = Der Verzeichnisserver hat calgate an einen anderen Server verwiesen; solchen Verweisen folgt calgate nicht.
g-dir-referral-fix = Verwenden Sie den Server, der den Basis-DN enthält (bei Active Directory einen Domänencontroller dieser Domäne oder den globalen Katalog auf Port 3269).
g-dir-search-cause = Der Verzeichnisserver hat die Suche abgelehnt.
g-dir-search-fix = Lesen Sie die Meldung; prüfen Sie, ob der Bind-DN unterhalb des Basis-DN suchen darf und ob der Server seitenweise Suchen erlaubt.
g-dir-skipped-cause = Einige Einträge waren nicht verwendbar (keine oder mehrere Adressen, ein zu großer Wert oder eine Person, die bereits anderweitig beobachtet wird) und wurden übersprungen.
g-dir-skipped-fix = Die Warnungen nennen jeden Eintrag. Korrigieren Sie diese im Verzeichnis oder lassen Sie sie so: Die übrigen werden synchronisiert.
g-dir-malformed-cause = Die Antwort des Verzeichnisses war nicht lesbar.
g-dir-malformed-fix = Testen Sie erneut; schlägt es weiter fehl, sehen Sie auf der Seite „Protokolle“ nach und prüfen Sie, was zwischen calgate und dem Server liegt (ein Proxy oder ein Load Balancer).
g-dir-graph-source-cause = Die Graph-Quelle, deren App-Zugangsdaten dieses Verzeichnis verwendet, gibt es nicht, oder sie ist keine Microsoft 365-(Graph-)Quelle.
g-dir-graph-source-fix = Wählen Sie im Formular des Verzeichnisses eine vorhandene Microsoft 365-(Graph-)Quelle, oder fügen Sie auf der Seite „Quellen“ eine hinzu.
g-dir-delta-expired-cause = Microsoft Graph hat den gespeicherten Änderungslink nicht mehr angenommen; deshalb wurden alle Personen neu gelesen.
g-dir-delta-expired-fix = Nichts zu tun: Die nächsten Synchronisierungen lesen wieder nur die Änderungen.
g-dir-group-cause = Microsoft Graph kennt keine Gruppe mit dieser Objekt-ID.
g-dir-group-fix = Kopieren Sie die Objekt-ID der Gruppe aus Entra ID (Gruppen, die Gruppe, Übersicht), oder lassen Sie das Feld für alle leer.
