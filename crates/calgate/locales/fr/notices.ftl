# calgate: notices and confirmations (fr)

## Shared words
n-db-no-answer = La base de données n'a pas répondu : { $error }
n-db-refused = La base de données a refusé : { $error }
n-db-refused-op = La base de données a refusé l'opération : { $error }
n-shutting-down = La passerelle est en cours d'arrêt.
n-col-actions = Actions
n-add = Ajouter
n-edit = Modifier
n-save = Enregistrer
n-remove = Supprimer
n-reset = Réinitialiser

## Refusals before any page (plain text answers)
n-session-ended = votre session a pris fin : reconnectez-vous
n-admin-only = cette page est réservée à l'administrateur ; les standardistes utilisent la console
n-cross-site = requête provenant d'un autre site refusée
n-form-too-large = formulaire trop volumineux
n-csrf-refused = jeton de formulaire (CSRF) manquant ou incorrect : rechargez la page et réessayez

## Sign-in
n-login-wrong = Nom d'utilisateur ou mot de passe incorrect.
n-login-bad-token = Ce jeton n'est pas valide.
n-login-too-many = Trop de connexions échouées. Réessayez dans { $secs } s.

## The Account page
n-pw-signed-in-as = Connecté en tant que
n-pw-with-password = avec le mot de passe administrateur.
n-pw-with-token = avec un jeton API administrateur.
n-pw-not-changed = Le mot de passe n'a pas été changé.
n-pw-enter-current = Saisissez votre mot de passe actuel.
n-pw-too-short = Utilisez au moins { $min } caractères.
n-pw-too-long = Utilisez au plus { $max } octets.
n-pw-same = Choisissez un mot de passe différent de l'actuel.
n-pw-differ = Les deux nouveaux mots de passe diffèrent : saisissez deux fois le même.
n-pw-no-admin = Aucun compte administrateur n'est configuré.
n-pw-too-many = Trop de mots de passe incorrects. Réessayez dans { $secs } s.
n-pw-wrong-current = Ce n'est pas le mot de passe actuel.
n-pw-db-refused = La base de données a refusé : { $error }. Le mot de passe n'a pas été changé.
n-pw-changed = Mot de passe changé. Les autres navigateurs connectés avec l'ancien mot de passe sont déconnectés.

## The API tokens page
n-token-label = Donnez au jeton un libellé de 1 à 100 caractères (qui l'utilise).
n-token-created = Jeton « { $label } » créé.
n-token-revoked = Jeton « { $label } » révoqué.
n-token-gone = Ce jeton n'existe plus.

## The Watch list page
n-person-too-long = Utilisez au plus { $max } caractères imprimables.
n-person-name-needed = Indiquez un nom : l'adresse est trop longue pour être affichée à sa place.
n-person-ext-spaces = Un poste ne contient pas d'espaces (2001 ; +49 30 1234 s'écrit +49301234).
n-person-not-watched = { $email } ne fait pas partie des personnes suivies.
n-person-failed = en échec
n-person-not-email = Ce n'est pas une adresse e-mail : saisissez l'adresse de la boîte aux lettres de la personne.
n-person-not-added = Impossible d'ajouter { $email } : { $problem }
n-person-added = Personne ajoutée : { $email }.
n-person-edit-gone = { $email } ne fait pas partie des personnes suivies : rien n'a été enregistré.
n-person-edit-refused = Rien n'a été enregistré pour { $email } : voir le formulaire.
n-person-saved = Personne enregistrée : { $email }.
n-person-removed = Personne supprimée : { $email }.
n-person-remove-gone = { $email } ne faisait pas partie des personnes suivies.
n-person-edit-label = Modifier { $email }
n-person-remove-label = Supprimer { $email }
n-person-key-help = L'adresse est la clé : pour la changer, supprimez la personne et ajoutez la nouvelle adresse.
n-person-first = Affichage des { $count } premières personnes ; lancez une recherche pour trouver les autres.
n-col-name = Nom
n-col-email = E-mail
n-col-extension = Poste
n-col-line = Ligne
n-col-ext-short = Poste
n-col-problem = Problème
n-import-ok = ok
n-import-not-email = pas une adresse e-mail
n-import-columns = plus de trois colonnes (e-mail, nom, poste)
n-import-ext-spaces = le poste contient des espaces
n-import-twice = en double
n-import-too-long = le nom ou le poste est trop long, ou contient des caractères de contrôle
n-import-malformed = le CSV est illisible à partir d'ici (un guillemet n'est pas fermé)
n-import-too-many = plus de 200 000 lignes ; le reste n'a pas été lu
n-import-summary = { $ok ->
        [one] { $ok } valide
       *[other] { $ok } valides
    }, { $bad } en erreur.
n-imported = { $count ->
        [one] { $count } personne importée
       *[other] { $count } personnes importées
    } ; personnes suivies désormais : { $total }.
n-import-refused = Rien n'a été importé : { $bad ->
        [one] { $bad } ligne doit être corrigée
       *[other] { $bad } lignes doivent être corrigées
    } (ou cochez « { p-skip } »).
n-import-empty = Collez une personne par ligne : e-mail, nom, poste.

## The Sources page
n-routes-default = source par défaut
n-routes-domains = { $count ->
        [one] { $count } domaine
       *[other] { $count } domaines
    }
n-routes-mailboxes = { $count ->
        [one] { $count } boîte aux lettres
       *[other] { $count } boîtes aux lettres
    }
n-src-not-configured = { $id } (non configurée)
n-src-no-such = Source inexistante : { $problem }.
n-src-unknown-id = Aucune source n'a l'identifiant { $id }.
n-src-id-refused = L'identifiant de source est refusé : { $problem }.
n-src-id-exists = Une source avec l'identifiant { $id } existe déjà : ouvrez ses paramètres depuis la liste.
n-src-name-placeholder = Exchange sur site
n-src-reset-done = Source { $id } réinitialisée : ses paramètres et ses secrets enregistrés sont effacés.
n-src-removed = Source { $id } supprimée avec ses secrets enregistrés.
n-src-reset-in-use = La source { $id } n'a pas été réinitialisée : le routage la nomme encore ({ $routes }). Routez d'abord ses domaines et boîtes aux lettres vers une autre source (et choisissez une autre source par défaut).
n-src-remove-in-use = La source { $id } n'a pas été supprimée : le routage la nomme encore ({ $routes }). Routez d'abord ses domaines et boîtes aux lettres vers une autre source (et choisissez une autre source par défaut).
n-src-reset-failed = La source { $id } n'a pas été réinitialisée : { $error }
n-src-remove-failed = La source { $id } n'a pas été supprimée : { $error }
n-src-retry = Nouvel essai demandé : la source { $id } réessaie une fois maintenant. Rechargez dans quelques secondes.
n-src-reset-label = Réinitialiser { $id }
n-src-remove-label = Supprimer { $id }
n-confirm-reset-title = Réinitialiser la source { $id } ?
n-confirm-reset-body = Ses paramètres et ses secrets enregistrés sont effacés ; elle reste dans la liste, non configurée, jusqu'à ce que vous enregistriez de nouveaux paramètres.
n-confirm-remove-title = Supprimer la source { $id } ?
n-confirm-remove-body = Ses paramètres et ses secrets enregistrés sont supprimés.
n-confirm-routed = Le routage la nomme encore
n-confirm-routed-reset = ({ $routes }) : routez-les d'abord ailleurs, sinon la réinitialisation est refusée.
n-confirm-routed-remove = ({ $routes }) : routez-les d'abord ailleurs, sinon la suppression est refusée.
n-confirm-reset-yes = Oui, réinitialiser { $id }
n-confirm-remove-yes = Oui, supprimer { $id }

## The routing editor
n-routing-saved = Routage enregistré et appliqué.
n-routing-not-saved = Le routage n'a pas été enregistré : { $error }
n-routing-errors = Rien n'a été enregistré : { $count ->
        [one] { $count } règle demande
       *[other] { $count } règles demandent
    } votre attention.
n-route-domain = Domaine { $domain }
n-route-mailbox = Boîte aux lettres { $mailbox }
n-route-line-domain = ligne { $line } : écrivez-la sous la forme domaine = id-source
n-route-line-address = ligne { $line } : écrivez-la sous la forme adresse = id-source
n-route-twice = ligne { $line } : { $key } figure deux fois
n-rule-a-line = Une règle par ligne :
n-rule-domain = domaine = id-source
n-rule-address = adresse = id-source
n-rule-configured = Sources configurées : { $ids }.
n-rule-address-why = pour les boîtes aux lettres qui ne se trouvent pas là où se trouve leur domaine.
