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
