# calgate: guidance words (fr)

## Error codes: likely cause and what to do
g-unreadable-cause = Le serveur a répondu d'une manière que calgate ne peut pas exploiter.
g-unreadable-fix = Consultez le message et la page Journaux pour plus de détails ; testez à nouveau après correction.
g-credentials-refused-cause = Le serveur a refusé les identifiants du compte de service (mot de passe erroné ou modifié, compte verrouillé ou méthode de connexion non autorisée).
g-credentials-refused-fix = Vérifiez le nom d'utilisateur et le mot de passe (ou le locataire, l'ID client et le secret client), enregistrez-les à nouveau, puis testez. Si le compte a été verrouillé, attendez d'abord la levée du verrouillage.
g-account-blocked-cause = Entra ID signale que le compte est verrouillé, désactivé ou bloqué par une stratégie.
g-account-blocked-fix = Demandez à votre administrateur Microsoft 365 de déverrouiller ou d'activer le compte de service, ou de l'exclure de la stratégie d'accès conditionnel qui le bloque.
g-admin-consent-cause = Le consentement administrateur n'a pas été accordé à l'inscription d'application.
g-admin-consent-fix = Dans Entra ID, ouvrez les autorisations d'API de l'inscription d'application et accordez le consentement administrateur, puis testez à nouveau.
g-unreachable-cause = calgate n'a pas pu joindre le serveur (nom, pare-feu, proxy ou TLS).
g-unreachable-fix = Vérifiez l'URL EWS ou le point de terminaison Graph, que cette machine peut le joindre et que son certificat est approuvé (ajoutez une autorité de certification privée dans « Paramètres de connexion avancés »).
g-throttled-cause = Le serveur limite calgate : trop de requêtes pour ce compte.
g-throttled-fix = calgate ralentit de lui-même. Si cela arrive souvent, augmentez l'« Intervalle d'actualisation des données » ou suivez moins de personnes avec ce compte.
g-mailbox-unknown-cause = Le serveur ne connaît pas cette boîte aux lettres.
g-mailbox-unknown-fix = Vérifiez l'adresse e-mail (l'adresse SMTP principale, pas un alias).
g-no-free-busy-cause = Le compte de service n'est pas autorisé à lire les disponibilités de ce calendrier.
g-no-free-busy-fix = Accordez au compte l'accès aux disponibilités (ou Calendars.Read) de la boîte aux lettres, ou l'autorisation d'application pour l'accès app-only via Graph.
g-exchange-version-cause = Le serveur n'accepte pas les requêtes dans la version d'Exchange choisie.
g-exchange-version-fix = Dans « Version d'Exchange », choisissez la version la plus ancienne parmi celles de vos serveurs.
g-sign-in-missing-cause = L'authentification moderne est choisie, mais aucun administrateur ne s'est encore connecté (ou la connexion enregistrée a été supprimée).
g-sign-in-missing-fix = Connectez-vous par code d'appareil dans « Paramètres d'intégration du calendrier », puis testez à nouveau.
g-entra-refused-cause = Entra ID a refusé la connexion.
g-entra-refused-aadsts-fix = Vérifiez l'ID de l'annuaire (locataire), l'ID d'application (client) et le compte ; le code indique la raison donnée par Entra ID (recherchez AADSTS suivi du numéro).
g-entra-refused-fix = Vérifiez l'ID de l'annuaire (locataire), l'ID d'application (client) et le compte ; le code indique la raison donnée par Entra ID.
g-settings-incomplete-cause = Les paramètres enregistrés sont incomplets pour le fournisseur choisi.
g-settings-incomplete-fix = Remplissez les champs indiqués dans le message et enregistrez à nouveau.

## Why the service account may have been refused, in the order to check
g-auth-1-cause = La stratégie du compte n'autorise pas des lectures de calendrier aussi fréquentes.
g-auth-1-fix = Augmentez l'« Intervalle d'actualisation des données » (300 s est un bon point de départ) ou demandez que le compte soit exempté de la stratégie de limitation ou de verrouillage, puis cliquez sur « Réessayer maintenant ».
g-auth-2-cause = Quelqu'un a changé le mot de passe du compte de service : celui qui est enregistré n'est plus valide.
g-auth-2-fix = Saisissez le nouveau mot de passe dans « Paramètres d'intégration du calendrier » et enregistrez ; calgate cesse aussitôt d'utiliser l'ancien.
g-auth-3-cause = Les identifiants ont été changés pendant que calgate fonctionnait, et les tentatives répétées avec les anciens ont fait verrouiller le compte.
g-auth-3-fix = calgate retient les tentatives suivantes (la protection contre le verrouillage) pour laisser le verrouillage expirer. Enregistrez les bons identifiants, attendez la levée du verrouillage, puis cliquez sur « Réessayer maintenant ».

## Why a settings warning matters
gw-both-auth-enabled = Si vous laissez les deux authentifications activées, un avertissement s'affiche à l'enregistrement : l'authentification moderne est utilisée, et Basic seulement si le serveur ne propose aucune connexion Bearer — jamais après un refus des identifiants. Décochez Basic, sauf si vous avez besoin de ce repli.
gw-windows-auth-order = L'authentification Windows est accordée en plus d'une autre méthode de connexion. L'ordre est fixe : moderne, puis Windows, puis Basic, chacune seulement si le serveur ne propose pas la précédente. Un mot de passe refusé n'est jamais réessayé avec une autre méthode.
gw-basic-auth-exchange-online = Exchange Online refuse l'authentification Basic : cette option n'y fonctionnera donc pas. Laissez-la décochée.
gw-ews-online-retirement = Microsoft met fin à EWS dans Exchange Online. Planifiez le passage à Microsoft 365 (Graph) avant les dates ci-dessus.
gw-refresh-interval-low = Une actualisation aussi fréquente peut faire limiter ou verrouiller le compte de service — la première cause citée dans les notes de dépannage. Le début et la fin des réunions s'affichent de toute façon à la seconde près.
gw-insecure-http = Les mots de passe et les données de calendrier circulent en clair via http://. À réserver à un environnement de test.
gw-local-target = L'adresse pointe vers la machine même de la passerelle. C'est correct pour un proxy local ou un environnement de test ; vers un vrai serveur Exchange ou Microsoft 365, c'est une erreur.
gw-ews-url-unusual-path = Les URL EWS se terminent normalement par /EWS/Exchange.asmx ; vérifiez l'adresse si le test de connexion échoue.

## Directory syncs: likely cause and what to do
g-dir-bind-refused-cause = Le serveur d'annuaire a refusé le DN de liaison ou son mot de passe.
g-dir-bind-refused-fix = Vérifiez le DN de liaison et le mot de passe de liaison sur la page Annuaires, puis enregistrez-les à nouveau. La protection contre le verrouillage retient les liaisons suivantes avec le mot de passe refusé, pour que les nouvelles tentatives ne verrouillent pas le compte.
g-dir-bind-held-cause = Le mot de passe de liaison a déjà été refusé, et la protection contre le verrouillage retient les liaisons suivantes avec lui jusqu'à son prochain essai.
g-dir-bind-held-fix = Enregistrez le bon mot de passe de liaison (un nouveau mot de passe est essayé aussitôt), ou attendez le prochain essai de la protection.
g-dir-removal-held-cause = La synchronisation retirerait plus de personnes de l'annuaire que sa limite ne le permet ; personne n'a donc été retiré.
g-dir-removal-held-fix = Examinez l'aperçu : si ces personnes sont vraiment parties, confirmez les retraits ; sinon, corrigez le filtre ou le DN de base et synchronisez à nouveau.
g-dir-empty-cause = L'annuaire n'a renvoyé personne ; la liste des personnes suivies est donc restée telle quelle.
g-dir-empty-fix = Vérifiez le filtre, le DN de base ou le groupe : un test doit lister des personnes.
g-dir-insecure-cause = Une connexion ldap:// simple sans StartTLS enverrait le mot de passe de liaison en clair ; elle a donc été refusée.
g-dir-insecure-fix = Utilisez une URL ldaps:// ou cochez StartTLS ; n'autorisez LDAP non chiffré que dans un environnement de test.
g-dir-unreachable-cause = calgate n'a pas pu joindre le serveur d'annuaire à temps (nom, réseau, pare-feu ou port).
g-dir-unreachable-fix = Vérifiez l'URL LDAP (hôte et port : 636 pour LDAPS, 389 pour StartTLS) et que cette machine peut joindre le serveur.
g-dir-tls-cause = La négociation TLS avec le serveur d'annuaire a échoué : son certificat n'est pas approuvé, ou il ne parle pas TLS sur ce port.
g-dir-tls-fix = Ajoutez l'autorité de certification qui a signé le certificat du serveur sous Certificats d'AC de confiance supplémentaires, et vérifiez le port et le schéma de l'URL (ldaps:// ou StartTLS).
g-dir-filter-cause = Le filtre LDAP est illisible.
g-dir-filter-fix = Écrivez le filtre entre parenthèses, par exemple (mail=*), ou choisissez l'un des filtres prédéfinis.
g-dir-base-cause = Le DN de base n'existe pas sur le serveur d'annuaire.
g-dir-base-fix = Vérifiez l'orthographe du DN de base (par exemple DC=contoso,DC=com) et que le DN de liaison peut le lire.
g-dir-referral-cause = Le serveur d'annuaire a renvoyé calgate vers un autre serveur, ce que calgate ne suit pas.
g-dir-referral-fix = Utilisez le serveur qui contient le DN de base (pour Active Directory, un contrôleur de ce domaine, ou le catalogue global sur le port 3269).
g-dir-search-cause = Le serveur d'annuaire a refusé la recherche.
g-dir-search-fix = Lisez le message ; vérifiez que le DN de liaison peut chercher sous le DN de base et que le serveur autorise les recherches paginées.
g-dir-skipped-cause = Certaines entrées étaient inutilisables (aucune adresse ou plusieurs, une valeur trop grande, ou une personne déjà suivie autrement) et ont été ignorées.
g-dir-skipped-fix = Les avertissements nomment chaque entrée. Corrigez-les dans l'annuaire, ou laissez-les : les autres sont synchronisées.
g-dir-malformed-cause = La réponse de l'annuaire est illisible.
g-dir-malformed-fix = Testez à nouveau ; si l'échec persiste, consultez la page Journaux et vérifiez ce qui se trouve entre calgate et le serveur (un proxy ou un répartiteur de charge).
g-dir-graph-source-cause = La source Graph dont cet annuaire utilise les identifiants d'application n'existe pas, ou n'est pas une source Microsoft 365 (Graph).
g-dir-graph-source-fix = Choisissez une source Microsoft 365 (Graph) existante dans le formulaire de l'annuaire, ou ajoutez-en une sur la page Sources.
g-dir-delta-expired-cause = Microsoft Graph n'a plus accepté le lien de modifications enregistré ; tout le monde a donc été relu.
g-dir-delta-expired-fix = Rien à faire : les prochaines synchronisations ne lisent à nouveau que les modifications.
g-dir-group-cause = Microsoft Graph n'a aucun groupe avec cet ID d'objet.
g-dir-group-fix = Copiez l'ID d'objet du groupe depuis Entra ID (Groupes, le groupe, Vue d'ensemble), ou laissez le champ vide pour tout le monde.
