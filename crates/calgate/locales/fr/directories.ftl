# calgate : annuaires (fr). Les mêmes clés que le catalogue anglais (un test le vérifie).

## The page frame
dir-nav = Annuaires
dir-title = Annuaires

## The list
dir-list = Annuaires synchronisés
dir-list-help = La liste des personnes suivies suit ces annuaires : une synchronisation ajoute leurs personnes, met à jour noms et postes et retire celles qui sont parties. Les personnes ajoutées à la main ou importées ne sont jamais touchées.
dir-none = Aucun annuaire pour l'instant. Ajoutez-en un ci-dessous.
dir-col-directory = Annuaire
dir-col-last-sync = Dernière synchronisation
dir-col-counts = Modifications
dir-col-changes = Ce qui change
dir-col-added = Ajoutées
dir-col-updated = Mises à jour
dir-col-removed = Retirées
dir-col-held = Retenues
dir-added = ajoutées
dir-updated = mises à jour
dir-removed-count = retirées
dir-held-count = retenues
dir-unchanged = inchangées
dir-warnings = Avertissements
dir-warnings-count = { $count ->
        [one] { $count } avertissement
       *[other] { $count } avertissements
    }
dir-never = jamais synchronisé
dir-syncing = synchronisation en cours
dir-kind-graph = Entra ID (Microsoft Graph)
dir-kind-ldap = LDAP ou Active Directory
dir-status-ok = Synchronisé
dir-status-held = Retraits retenus
dir-status-failed = Échec
dir-test = Tester
dir-sync-now = Synchroniser maintenant
dir-first-sync = Un nouvel annuaire ne se synchronise pas tout seul : testez-le, consultez son aperçu et synchronisez-le vous-même la première fois. Ensuite, il se synchronise à son intervalle.

## A held sync
dir-held-title = { $id } : { $count ->
        [one] { $count } retrait attend
       *[other] { $count } retraits attendent
    } votre confirmation
dir-held-body = La dernière synchronisation retirerait plus de personnes de l'annuaire que sa limite ne le permet ; personne n'a donc été retiré. Si elles sont vraiment parties, confirmez les retraits ; sinon, corrigez le filtre ou le DN de base et synchronisez à nouveau.
dir-held-confirm = Confirmer les retraits
dir-held-help = Annuler ne retire personne et ne change rien : la prochaine synchronisation retient à nouveau les mêmes retraits.
dir-held-who = Qui partirait (les premiers)
dir-held-kept = Personne n'a été retiré de { $id } : tout le monde reste suivi, et les retraits restent retenus jusqu'à ce que vous les confirmiez ou corrigiez l'annuaire.

## Removing a directory
dir-confirm-remove-title = Retirer l'annuaire { $id } ?
dir-confirm-remove-body = Ses paramètres et son mot de passe de liaison sont supprimés. Ses personnes restent suivies, comme si elles avaient été ajoutées à la main.
dir-confirm-remove-yes = Oui, retirer { $id }
dir-removed = L'annuaire { $id } a été retiré ; ses personnes restent suivies.

## Test, preview and sync
dir-test-title = Test de { $id } : les premières personnes qu'il liste
dir-test-ok = { $id } a répondu. Voici ses premières personnes telles que la liste les tiendrait :
dir-test-caption = Les premières personnes listées par l'annuaire
dir-preview-title = Aperçu de { $id } : ce qu'une synchronisation changerait
dir-outcome-title = Synchronisation de { $id }
dir-preview-adds = Seraient ajoutées
dir-preview-updates = Seraient mises à jour
dir-preview-removals = Quitteraient la liste
dir-preview-held = Plus de personnes de l'annuaire partiraient que sa limite ne le permet : une synchronisation retient ces retraits jusqu'à ce que vous les confirmiez.
dir-preview-first = Seules les premières sont listées ; les totaux ci-dessus sont complets.
dir-preview-ok = Prêt : rien n'a encore été modifié
dir-preview-would-hold = Une synchronisation retiendrait les retraits
dir-preview-failed = L'aperçu de { $id } a échoué : { $cause }
dir-sync-failed = La synchronisation de { $id } a échoué : { $cause } Rien n'a été modifié.
dir-synced = { $id } synchronisé : { $added } ajoutées, { $updated } mises à jour, { $removed } retirées, { $unchanged } inchangées.
dir-synced-held = { $id } synchronisé : { $added } ajoutées, { $updated } mises à jour ; { $held ->
        [one] { $held } retrait reste retenu
       *[other] { $held } retraits restent retenus
    } jusqu'à votre confirmation.
dir-field-source = Source
dir-field-id = identifiant dans l'annuaire
dir-unknown = Aucun annuaire n'a l'identifiant { $id }.
dir-running = Une synchronisation de { $id } est en cours ; réessayez quand elle sera terminée.

## The form
dir-add-title = Ajouter un annuaire
dir-edit-title = Modifier l'annuaire { $id }
dir-graph-legend = Entra ID (Microsoft Graph) uniquement
dir-ldap-legend = LDAP ou Active Directory uniquement
dir-mapping-legend = Attributs
dir-mapping-help = Quel attribut contient chaque donnée d'une personne. Laissez vide pour les valeurs par défaut affichées.
dir-schedule-legend = Planification et sécurité
dir-f-id-label = Identifiant de l'annuaire
dir-f-id-help = De 1 à 32 caractères parmi a-z, 0-9 et -. La liste des personnes suivies nomme ainsi leur provenance ; il ne change pas ensuite.
dir-f-name-label = Nom affiché
dir-f-name-placeholder = Siège
dir-f-name-help = Comment les pages nomment cet annuaire.
dir-f-kind-label = Type
dir-f-kind-help = D'où viennent les personnes.
dir-f-source-label = Source Graph
dir-f-source-help = La source Microsoft 365 (Graph) dont l'inscription d'application lit l'annuaire ; il lui faut l'autorisation d'application User.Read.All (et GroupMember.Read.All pour un groupe).
dir-f-source-none = Aucune source Microsoft 365 (Graph) n'est encore configurée : ajoutez-en d'abord une sur la page Sources.
dir-f-group-id-label = ID d'objet du groupe
dir-f-group-id-help = Seulement les membres de ce groupe, groupes imbriqués compris. Vide : tous ceux qui ont une boîte aux lettres.
dir-f-url-label = URL LDAP
dir-f-url-help = ldaps://serveur:636, ou ldap://serveur:389 avec StartTLS.
dir-f-starttls-label = Utiliser StartTLS (pour les URL ldap://)
dir-f-allow-insecure-ldap-label = Autoriser LDAP simple sans chiffrement
dir-f-allow-insecure-ldap-warning = Sans LDAPS ni StartTLS, le mot de passe de liaison et les données de chacun traversent le réseau en clair. À réserver à un environnement de test.
dir-f-bind-dn-label = DN de liaison
dir-f-bind-dn-help = Le compte avec lequel calgate lit l'annuaire. Un accès en lecture aux personnes lui suffit.
dir-f-bind-password-label = Mot de passe de liaison
dir-f-bind-password-help = Conservé chiffré et jamais réaffiché. Un mot de passe refusé est essayé une fois ; la protection contre le verrouillage retient les liaisons suivantes pour que le compte ne soit pas verrouillé.
dir-f-base-dn-label = DN de base
dir-f-base-dn-help = Où la recherche commence ; tout ce qui se trouve dessous est parcouru.
dir-f-filter-label = Filtre
dir-f-filter-help = Quelles entrées sont des personnes à suivre. Vide : le filtre par défaut d'Active Directory (les personnes avec une boîte aux lettres dont le compte est activé).
dir-preset-ad = Par défaut d'Active Directory
dir-preset-plain = Toute entrée avec une adresse e-mail
dir-f-extra-ca-pem-label = Certificats d'AC de confiance supplémentaires (PEM)
dir-f-extra-ca-pem-help = L'autorité de certification qui a signé le certificat du serveur, si elle est privée.
dir-f-attr-email-label = Attribut de l'e-mail
dir-f-attr-name-label = Attribut du nom
dir-f-attr-extension-label = Attribut du poste
dir-f-attr-extension-help = Pour Graph : businessPhones (son premier numéro), mobilePhone ou extensionAttribute1 à 15 ; pour LDAP n'importe quel attribut, par exemple telephoneNumber ou ipPhone.
dir-f-attr-source-label = Attribut de la source (hybride)
dir-f-attr-source-help = Un attribut dont la valeur nomme la source de calendrier qui lit la boîte aux lettres de la personne. Vide : le routage décide.
dir-f-sync-interval-s-label = Intervalle de synchronisation (secondes)
dir-f-sync-interval-s-help = De 300 (5 minutes) à 604800 (7 jours). 3600 correspond à une heure.
dir-f-max-removal-percent-label = Part maximale qu'une synchronisation peut retirer (%)
dir-f-max-removal-percent-help = Une synchronisation qui retirerait davantage de personnes de l'annuaire retient les retraits jusqu'à ce que vous les confirmiez ; un filtre erroné ne peut donc pas vider la liste.
dir-created = L'annuaire { $id } a été ajouté. Testez-le, consultez son aperçu, puis synchronisez-le une première fois.
dir-saved = L'annuaire { $id } a été enregistré.
dir-password-retype = Le mot de passe de liaison n'a pas été conservé : saisissez-le à nouveau.
dir-id-refused = L'identifiant de l'annuaire est refusé : { $problem }.
dir-id-exists = Un annuaire avec l'identifiant { $id } existe déjà : modifiez-le depuis la liste.

## Field errors (the first ones are the validator's English messages, word for word)
dir-err-name = 64 caractères au plus, sans caractères de contrôle
dir-err-attribute = un nom d'attribut : lettres, chiffres, « - » et « ; »
dir-err-source-missing = l'identifiant de la source Graph à utiliser
dir-err-group = l'ID d'objet d'un groupe (un GUID)
dir-err-url = une URL ldaps:// ou ldap://
dir-err-starttls = StartTLS est destiné aux URL ldap:// ; ldaps:// est déjà chiffré
dir-err-plain = une liaison ldap:// simple envoie le mot de passe en clair : utilisez ldaps://, cochez StartTLS ou autorisez explicitement LDAP non chiffré
dir-err-password-needed = le mot de passe du DN de liaison est nécessaire
dir-err-base = le DN à partir duquel la recherche commence
dir-err-ldap-string = 4096 caractères au plus, sans caractères de contrôle
dir-err-filter = un filtre LDAP entre parenthèses, par exemple (mail=*)
dir-err-interval = un nombre entier de secondes entre 300 et 604800
dir-err-percent = un pourcentage entre 0 et 100
dir-err-password-long = 1024 octets au plus
dir-err-no-graph-source = aucune source Graph n'a l'identifiant { $id }

## Health
dir-open-page = Ouvrir Annuaires
dir-health-held = Des retraits attendent votre confirmation.

## The Watch list
dir-col-origin = Provenance
dir-origin-manual = Ajoutée à la main
dir-origin-import = Import
dir-import-file = Ou choisissez un fichier CSV
dir-import-file-help = Lu en UTF-8 dans la zone ci-dessus et affiché en aperçu ; rien n'est enregistré avant que vous cliquiez sur Importer.
dir-import-file-too-large = Le fichier est trop volumineux pour un seul import (environ 2 Mo au plus) : découpez-le.
dir-import-file-unreadable = Le fichier n'a pas pu être lu.
