# calgate: settings words (es)

## The page
set-title = Configuración de la integración de calendarios
set-source-title = Origen { $id }
set-source-new = nuevo: se crea al guardar
set-all-sources = Todos los orígenes
set-saved = Configuración guardada y aplicada.
set-warnings = Advertencias
set-warning = Advertencia:
set-group-source = Origen
set-display-name = Nombre visible
set-display-name-help = El nombre con que las páginas Orígenes y Estado muestran este origen. Su id, { $id }, es el que usa el enrutamiento y no cambia.
set-show-fields = Mostrar los campos de este proveedor
set-save = Guardar
set-nothing-saved = No se guardó nada: { $count ->
        [one] { $count } campo requiere
       *[other] { $count } campos requieren
    } atención.
set-nothing-tested = No se probó nada: { $count ->
        [one] { $count } campo requiere
       *[other] { $count } campos requieren
    } atención.
set-db-refused = La base de datos rechazó el guardado: { $error }

## The groups of the form
set-group-provider = Origen de calendario
set-group-auth = Autenticación
set-group-exchange = Servidor Exchange
set-group-refresh = Actualización y privacidad
set-group-advanced = Configuración avanzada de la conexión

## The fields
set-provider-label = Proveedor
set-provider-help = Exchange local: su propio servidor Exchange mediante EWS. Office 365 (EWS): Exchange Online mediante EWS (bloqueado de forma predeterminada desde el 1 de octubre de 2026, desactivado el 1 de abril de 2027). Microsoft 365 (Graph): Exchange Online mediante Microsoft Graph (recomendado para Exchange Online).
set-grant-basic-auth-label = Permitir la autenticación Basic
set-grant-basic-auth-help = Inicia sesión en EWS con el usuario y la contraseña de la cuenta de servicio. Exchange Online rechaza la autenticación Basic desde 2022. Con Exchange local, Basic también se usa cuando no está permitida ninguna de las dos autenticaciones.
set-grant-modern-auth-label = Permitir la autenticación moderna
set-grant-modern-auth-help = Inicia sesión con OAuth2 en Entra ID como la cuenta de servicio (delegado). Necesita el Id. de directorio (inquilino) y el Id. de aplicación (cliente). Si ambas autenticaciones están permitidas, se usa la moderna, y Basic solo si el servidor no ofrece ningún inicio de sesión Bearer. Con Microsoft 365 (Graph), sin secreto de cliente ni certificado, selecciona el inicio de sesión delegado.
set-grant-windows-auth-label = Permitir la autenticación de Windows (NTLM/Negotiate)
set-grant-windows-auth-help = Inicia sesión en EWS local con la autenticación de Windows, tal como la ofrece un Exchange 2013-2019/SE estándar con Basic desactivada: NTLMv2, sola o dentro de Negotiate, según lo que ofrezca el servidor. Usuario como DOMINIO\usuario o como UPN. No se usa Kerberos. Si hay varias autenticaciones permitidas, se prueban en el orden moderna, Windows, Basic, solo entre las que ofrece el servidor.
set-tenant-id-label = Id. de directorio (inquilino)
set-tenant-id-help = El inquilino de Entra ID: su GUID o uno de sus nombres de dominio comprobados (contoso.onmicrosoft.com).
set-tenant-id-placeholder = GUID o contoso.onmicrosoft.com
set-client-id-label = Id. de aplicación (cliente)
set-client-id-help = El GUID del registro de aplicación con el que calgate inicia sesión.
set-username-label = Usuario
set-username-help = La cuenta de servicio (user@contoso.com, o DOMINIO\usuario en local). Concédale solo los permisos que necesita para leer la información de disponibilidad.
set-password-label = Contraseña
set-password-help = La contraseña de la cuenta de servicio. Solo escritura: se guarda cifrada y no se vuelve a mostrar. Deje el campo vacío para conservar la guardada.
set-client-secret-label = Secreto de cliente
set-client-secret-help = Para el acceso solo de aplicación con Microsoft 365 (Graph): un secreto de cliente del registro de aplicación. Solo escritura.
set-client-certificate-pem-label = Certificado de cliente (PEM)
set-client-certificate-pem-help = Para el acceso solo de aplicación con Microsoft 365 (Graph): el certificado cargado en el registro de aplicación y su clave privada sin cifrar, ambos en PEM. Si ambos están definidos, se usa en lugar del secreto de cliente. Solo escritura.
set-exchange-version-label = Versión de Exchange
set-exchange-version-help = La versión de Exchange más antigua de sus servidores; determina el formato de las solicitudes y si se pueden leer los mensajes de fuera de la oficina (2010 o posterior). Elija 2013 SP1 para 2016, 2019, Subscription Edition y Exchange Online.
set-ews-url-label = URL de EWS
set-ews-url-help = El punto de conexión de Exchange Web Services, por ejemplo https://mail.contoso.com/EWS/Exchange.asmx. Obligatoria para Exchange local; para Office 365 (EWS), el valor predeterminado es https://outlook.office365.com/EWS/Exchange.asmx.
set-refresh-interval-s-label = Intervalo de actualización de datos (s)
set-refresh-interval-s-help = Cada cuánto se vuelve a leer cada calendario vigilado; limita el retraso con que se ve un cambio en el calendario (el inicio y el fin de las reuniones se muestran al segundo de todos modos). Por debajo de 60 s hay riesgo de limitación por el servidor y de bloqueos de la cuenta.
set-presence-label = Presencia de Teams
set-presence-help = Lee además la presencia de Microsoft Teams de cada persona vigilada (En una llamada, En una reunión, No molestar…) y la muestra junto al estado del calendario. Requiere el permiso de aplicación Presence.Read.All; la presencia nunca cambia el estado del calendario.
set-presence-interval-s-label = Intervalo de actualización de la presencia (s)
set-presence-interval-s-help = Cada cuánto se lee la presencia de Teams, 650 personas por solicitud.
set-change-notifications-label = Notificaciones de cambios
set-change-notifications-help = Microsoft Graph avisa a calgate en cuanto cambia un calendario (una suscripción por buzón vigilado) en lugar de leer todos los calendarios en cada actualización; todos se siguen leyendo en el barrido de seguridad. Requiere un registro de aplicación con un permiso de aplicación para leer calendarios y una URL de notificación a la que Graph pueda llegar.
set-notification-url-label = URL de notificación
set-notification-url-help = La dirección pública de esta pasarela tal como la alcanza Microsoft Graph, por ejemplo https://calgate.contoso.com; Graph envía a /api/v1/notifications/graph bajo ella.
set-notification-sweep-s-label = Intervalo del barrido de seguridad (s)
set-notification-sweep-s-help = Con las notificaciones de cambios activas, cada cuánto se sigue leyendo cada calendario: una notificación perdida cuesta como mucho este tiempo. Los buzones sin una suscripción que funcione se leen en el intervalo de actualización.
set-privacy-label = Privacidad
set-privacy-help = Lo que ven los operadores de un evento: solo el estado, el asunto, o el asunto y la ubicación. Los eventos privados siempre se muestran como "Cita privada".
set-allow-insecure-http-label = Permitir http:// no seguro
set-allow-insecure-http-help = Permite URL http:// sin cifrar (solo en entornos de prueba): las contraseñas y los datos de calendario viajan entonces sin cifrar.
set-authority-host-label = Host de autoridad de Entra ID
set-authority-host-help = Adónde van los inicios de sesión: https://login.microsoftonline.com, o la autoridad de una nube nacional. Si se deja vacío, se restablece el valor predeterminado.
set-graph-endpoint-label = Punto de conexión de Microsoft Graph
set-graph-endpoint-help = https://graph.microsoft.com, o el punto de conexión de Graph de una nube nacional. Si se deja vacío, se restablece el valor predeterminado.
set-extra-ca-pem-label = Certificados de CA de confianza adicionales (PEM)
set-extra-ca-pem-help = Certificados de una entidad de certificación privada en la que confiar además de las públicas (por ejemplo, un Exchange local con una CA interna).
set-status-rules-label = Reglas de estado
set-status-rules-help = Cómo ven los operadores los eventos: los provisionales (como provisional, ocupado o libre), los de "Trabaja en otro lugar" (como trabaja en otro lugar, libre u ocupado) y, si lo elige, los eventos de todo el día marcados como libres, que entonces no cambian el estado.
set-rule-tentative = Los eventos provisionales se muestran como
set-rule-elsewhere = "Trabaja en otro lugar" se muestra como
set-rule-all-day-free = Ignorar los eventos de todo el día marcados como libres

## The choices of the lists
set-choice-exchange = Exchange local
set-choice-exchange2013-sp1 = Exchange 2013 SP1 o posterior
set-choice-status-only = Solo estado
set-choice-subject = Asunto
set-choice-subject-location = Asunto y ubicación
set-choice-tentative = Provisional
set-choice-busy = Ocupado
set-choice-free = Libre
set-choice-working-elsewhere = Trabaja en otro lugar

## Write-only fields
set-secret-set = definido
set-secret-not-set = sin definir
set-secret-keep = definido — déjelo vacío para conservarlo
set-secret-clear = borrar

## Field errors
set-err-whole-seconds = se espera un número entero de segundos
set-err-refresh-range = debe estar entre 10 y 86400 segundos
set-err-presence-range = debe estar entre 10 y 3600 segundos
set-err-sweep-range = debe estar entre 300 y 86400 segundos
set-err-url-query = no debe contener una ?consulta
set-err-notification-url-required = es obligatorio para las notificaciones de cambios (la dirección pública de esta pasarela, por ejemplo https://calgate.contoso.com)
set-err-tenant-id = debe ser el GUID del inquilino o uno de sus nombres de dominio (contoso.onmicrosoft.com)
set-err-client-id = debe ser un GUID, por ejemplo 9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d
set-err-tenant-required-graph = El Id. de directorio (inquilino) es obligatorio para Microsoft 365 (Graph)
set-err-tenant-required-modern = El Id. de directorio (inquilino) es obligatorio para la autenticación moderna
set-err-client-required-graph = El Id. de aplicación (cliente) es obligatorio para Microsoft 365 (Graph)
set-err-client-required-modern = El Id. de aplicación (cliente) es obligatorio para la autenticación moderna
set-err-username-long = debe tener como máximo 256 caracteres
set-err-control-chars = no debe contener caracteres de control
set-err-username-basic = el usuario de la cuenta de servicio es obligatorio para la autenticación Basic
set-err-username-windows = el usuario de la cuenta de servicio es obligatorio para la autenticación de Windows
set-err-password-basic = la contraseña de la cuenta de servicio es obligatoria para la autenticación Basic
set-err-password-windows = la contraseña de la cuenta de servicio es obligatoria para la autenticación de Windows
set-err-windows-domain = el dominio antes de \ está vacío: escriba DOMINIO\usuario o un UPN
set-err-windows-user = falta el usuario después de \: escriba DOMINIO\usuario o un UPN
set-err-windows-name = la autenticación de Windows necesita DOMINIO\usuario o un UPN (usuario@dominio)
set-err-office365-grant = Office 365 (EWS) necesita la autenticación moderna (recomendada) o Basic
set-err-graph-basic = Microsoft Graph no acepta la autenticación Basic; desactívela para Microsoft 365 (Graph)
set-err-windows-provider = la autenticación de Windows es solo para Exchange local; Exchange Online y Microsoft Graph no la ofrecen
set-err-graph-sign-in = el acceso solo de aplicación necesita un secreto de cliente o un certificado de cliente (o permita la autenticación moderna para un inicio de sesión delegado)
set-err-ews-url-required = es obligatoria para Exchange local (por ejemplo https://mail.contoso.com/EWS/Exchange.asmx)
set-err-url-absolute = debe ser una URL absoluta, por ejemplo https://…
set-err-url-scheme = debe empezar por https://
set-err-url-credentials = no debe contener un nombre de usuario ni una contraseña
set-err-url-fragment = no debe contener un #fragmento
set-err-url-https = debe usar https:// (http:// requiere "Permitir http:// no seguro")
set-err-url-metadata = no debe apuntar a una dirección link-local ni a un servicio de metadatos de la nube
set-err-key-encrypted = la clave privada está cifrada; péguela sin frase de contraseña
set-err-no-certificate = no se encontró ningún certificado (-----BEGIN CERTIFICATE-----)
set-err-no-private-key = no se encontró ninguna clave privada (-----BEGIN PRIVATE KEY-----)
set-err-ca-has-key = contiene una clave privada; pegue solo los certificados de CA
set-err-pem-none = no se encontró ningún bloque PEM (-----BEGIN …-----)
set-err-pem-unterminated = un bloque PEM no tiene la línea -----END …----- correspondiente
set-err-pem-base64 = el contenido de un bloque PEM no es base64 válido
set-err-pem-der = un bloque PEM no contiene datos DER
set-err-reentry-password = el servidor cambió: vuelva a escribir la contraseña (una contraseña guardada solo se envía al servidor para el que se introdujo)
set-err-reentry-client-secret = el servidor cambió: vuelva a escribir el secreto de cliente (un secreto de cliente guardado solo se envía al servidor para el que se introdujo)
set-err-reentry-certificate = el servidor cambió: vuelva a introducir el certificado de cliente (un certificado de cliente guardado solo se envía al servidor para el que se introdujo)
set-err-display-name-long = un nombre visible tiene como máximo 64 caracteres
set-err-display-name-control = un nombre visible no puede contener caracteres de control

## Warnings of a save or a test
set-warn-both-auth = Están permitidas tanto la autenticación Basic como la moderna. Se usa la moderna; Basic solo cuando el servidor no ofrece ningún inicio de sesión Bearer, nunca después de un rechazo de credenciales.
set-warn-windows-order = Hay varios métodos de inicio de sesión permitidos. Se prueban en el orden { $order }, cada uno solo cuando el servidor no ofrece el anterior, nunca después de un rechazo de credenciales.
set-auth-modern = moderna
set-auth-windows = Windows
set-auth-basic = Basic
set-auth-then = { $first }, luego { $next }
set-warn-basic-online = Exchange Online rechaza la autenticación Basic desde que Microsoft la desactivó en 2022; permita en su lugar la autenticación moderna.
set-warn-ews-retirement = Exchange Online bloquea EWS de forma predeterminada a partir del 1 de octubre de 2026 y lo desactiva el 1 de abril de 2027. Cambie antes al proveedor Microsoft 365 (Graph).
set-warn-refresh-low = Un intervalo de actualización de { $interval } s es inferior a { $min } s: Exchange puede limitar a calgate y, con una contraseña incorrecta, la cuenta de servicio puede bloquearse en segundos.
set-warn-ews-path = La ruta { $path } de la URL de EWS no termina en /EWS/Exchange.asmx. Se ha guardado; compruebe que sea el punto de conexión de Exchange Web Services.
set-warn-insecure-http = { $count ->
        [one] { $fields } usa
       *[other] { $fields } usan
    } http:// sin cifrar: la contraseña, los tokens y los datos de calendario viajan sin cifrar. Úselo solo en un entorno de prueba.
set-warn-local-target = { $count ->
        [one] { $fields } apunta
       *[other] { $fields } apuntan
    } a esta misma máquina (loopback). Guardado; asegúrese de que sea intencionado, por ejemplo un proxy local o un entorno de prueba.

## The device-code sign-in
set-device-title = Inicio de sesión con código de dispositivo
set-device-help = Haga que calgate inicie sesión una sola vez como la cuenta de servicio en la página de Microsoft (MFA incluida) en lugar de guardar su contraseña. Usa el Id. de directorio (inquilino) y el Id. de aplicación (cliente) guardados arriba.
set-device-only = El inicio de sesión con código de dispositivo solo se ofrece para el origen { $id }. Para este origen, guarde el usuario y la contraseña de la cuenta de servicio con "Permitir la autenticación moderna", o use Microsoft 365 (Graph) con un secreto o un certificado de aplicación.
set-device-open = Abra { $uri } e introduzca el código { $code } antes de { $expires }.
set-device-again = Empezar de nuevo
set-device-start = Iniciar sesión con código de dispositivo
set-device-none = Sin iniciar.
set-device-pending = Esperando a que introduzca el código en la página de inicio de sesión de Microsoft…
set-device-done = Sesión iniciada. calgate lee los calendarios con este inicio de sesión.
set-device-done-as = Sesión iniciada como { $user }. calgate lee los calendarios con este inicio de sesión.
set-device-expired = El código caducó antes de introducirse. Empiece de nuevo.
set-device-declined = El inicio de sesión se rechazó en la página de Microsoft.
set-device-failed = Entra ID rechazó el inicio de sesión: { $code } { $message }

## Test connection
set-test-title = Probar la conexión
set-test-help = Una solicitud real para un buzón con los valores del formulario de arriba, guardados o no (una prueba no guarda nada). Sin buzón, se usa la primera persona vigilada a la que sirve este origen.
set-test-mailbox = Buzón
set-test-run = Probar la conexión
set-tested-unsaved = Probado con los valores del formulario; no se guardan hasta que pulse Guardar.
set-test-connected = Conectado: { $provider } respondió para { $mailbox } en { $ms } ms.
set-test-failed = Falló para { $mailbox } tras { $ms } ms.
set-test-status-now = Estado actual
set-test-until = hasta
set-test-events-today = Eventos de hoy
set-test-code = Código de error
set-test-message = Mensaje
set-test-cause = Causa probable
set-test-fix = Qué hacer
set-test-need-mailbox = Introduzca la dirección de correo de un buzón con el que probar.
set-test-limit = Como máximo { $max } pruebas de conexión por minuto. Vuelva a intentarlo en { $wait } s.
set-test-not-saved = El origen { $id } aún no está guardado: guarde su configuración y después pruebe la conexión.

## Recent changes
set-history-title = Cambios recientes
set-history-no-change = sin cambios
set-history-removed = origen eliminado
