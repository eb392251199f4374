# calgate: directorios (es). Las mismas claves que el catálogo inglés (una prueba lo comprueba).

## The page frame
dir-nav = Directorios
dir-title = Directorios

## The list
dir-list = Directorios sincronizados
dir-list-help = La lista de personas vigiladas sigue a estos directorios: una sincronización añade sus personas, actualiza nombres y extensiones y quita a quienes se fueron. Las personas añadidas a mano o importadas nunca se tocan.
dir-none = Aún no hay ningún directorio. Añada uno más abajo.
dir-col-directory = Directorio
dir-col-last-sync = Última sincronización
dir-col-counts = Cambios
dir-col-changes = Qué cambia
dir-col-added = Añadidas
dir-col-updated = Actualizadas
dir-col-removed = Quitadas
dir-col-held = Retenidas
dir-added = añadidas
dir-updated = actualizadas
dir-removed-count = quitadas
dir-held-count = retenidas
dir-unchanged = sin cambios
dir-warnings = Advertencias
dir-warnings-count = { $count ->
        [one] { $count } advertencia
       *[other] { $count } advertencias
    }
dir-never = nunca sincronizado
dir-syncing = sincronizando ahora
dir-kind-graph = Entra ID (Microsoft Graph)
dir-kind-ldap = LDAP o Active Directory
dir-status-ok = Sincronizado
dir-status-held = Bajas retenidas
dir-status-failed = Error
dir-test = Probar
dir-sync-now = Sincronizar ahora
dir-first-sync = Un directorio nuevo no se sincroniza solo: pruébelo, revise su vista previa y sincronícelo usted la primera vez. Después se sincroniza a su intervalo.

## A held sync
dir-held-title = { $id }: { $count ->
        [one] { $count } baja espera
       *[other] { $count } bajas esperan
    } su confirmación
dir-held-body = La última sincronización quitaría más personas del directorio de las que permite su límite, así que no se quitó a nadie. Si de verdad se fueron, confirme las bajas; si no, corrija el filtro o el DN base y vuelva a sincronizar.
dir-held-confirm = Confirmar las bajas
dir-held-help = Cancelar no quita a nadie ni cambia nada: la próxima sincronización vuelve a retener las mismas bajas.
dir-held-who = Quién saldría (los primeros)
dir-held-kept = No se quitó a nadie de { $id }: todos siguen vigilados, y las bajas siguen retenidas hasta que usted las confirme o corrija el directorio.

## Removing a directory
dir-confirm-remove-title = ¿Quitar el directorio { $id }?
dir-confirm-remove-body = Se eliminan su configuración y su contraseña de enlace. Sus personas siguen vigiladas, como si se hubieran añadido a mano.
dir-confirm-remove-yes = Sí, quitar { $id }
dir-removed = Se quitó el directorio { $id }; sus personas siguen vigiladas.

## Test, preview and sync
dir-test-title = Prueba de { $id }: las primeras personas que lista
dir-test-ok = { $id } respondió. Estas son sus primeras personas tal como las tendría la lista:
dir-test-caption = Las primeras personas que lista el directorio
dir-preview-title = Vista previa de { $id }: lo que cambiaría una sincronización
dir-outcome-title = Sincronización de { $id }
dir-preview-adds = Se añadirían
dir-preview-updates = Se actualizarían
dir-preview-removals = Saldrían de la lista
dir-preview-held = Se irían más personas del directorio de las que permite su límite: una sincronización retiene estas bajas hasta que usted las confirme.
dir-preview-first = Solo se listan las primeras; los totales de arriba están completos.
dir-preview-ok = Listo: aún no se ha cambiado nada
dir-preview-would-hold = Una sincronización retendría las bajas
dir-preview-failed = Falló la vista previa de { $id }: { $cause }
dir-sync-failed = Falló la sincronización de { $id }: { $cause } No se cambió nada.
dir-synced = { $id } sincronizado: { $added } añadidas, { $updated } actualizadas, { $removed } quitadas, { $unchanged } sin cambios.
dir-synced-held = { $id } sincronizado: { $added } añadidas, { $updated } actualizadas; { $held ->
        [one] { $held } baja queda retenida
       *[other] { $held } bajas quedan retenidas
    } hasta que usted confirme.
dir-field-source = Origen
dir-field-id = id en el directorio
dir-unknown = Ningún directorio tiene el id { $id }.
dir-running = Hay una sincronización de { $id } en curso; vuelva a intentarlo cuando termine.

## The form
dir-add-title = Añadir un directorio
dir-edit-title = Editar el directorio { $id }
dir-graph-legend = Solo Entra ID (Microsoft Graph)
dir-ldap-legend = Solo LDAP o Active Directory
dir-mapping-legend = Atributos
dir-mapping-help = Qué atributo contiene cada dato de una persona. Déjelo vacío para los valores predeterminados que se muestran.
dir-schedule-legend = Programación y seguridad
dir-f-id-label = Id del directorio
dir-f-id-help = De 1 a 32 caracteres entre a-z, 0-9 y -. La lista de personas vigiladas nombra así su procedencia; no cambia después.
dir-f-name-label = Nombre visible
dir-f-name-placeholder = Sede central
dir-f-name-help = Cómo llaman las páginas a este directorio.
dir-f-kind-label = Tipo
dir-f-kind-help = De dónde vienen las personas.
dir-f-source-label = Origen Graph
dir-f-source-help = El origen Microsoft 365 (Graph) cuyo registro de aplicación lee el directorio; necesita el permiso de aplicación User.Read.All (y GroupMember.Read.All para un grupo).
dir-f-source-none = Aún no hay ningún origen Microsoft 365 (Graph) configurado: añada primero uno en la página Orígenes.
dir-f-group-id-label = Id. de objeto del grupo
dir-f-group-id-help = Solo los miembros de este grupo, incluidos los grupos anidados. Vacío: todos los que tienen buzón.
dir-f-url-label = URL LDAP
dir-f-url-help = ldaps://servidor:636, o ldap://servidor:389 con StartTLS.
dir-f-starttls-label = Usar StartTLS (para URL ldap://)
dir-f-allow-insecure-ldap-label = Permitir LDAP simple sin cifrado
dir-f-allow-insecure-ldap-warning = Sin LDAPS ni StartTLS, la contraseña de enlace y los datos de todos cruzan la red sin cifrar. Úselo solo en un entorno de pruebas.
dir-f-bind-dn-label = DN de enlace
dir-f-bind-dn-help = La cuenta con la que calgate lee el directorio. Le basta con acceso de lectura a las personas.
dir-f-bind-password-label = Contraseña de enlace
dir-f-bind-password-help = Se guarda cifrada y no vuelve a mostrarse. Una contraseña rechazada se prueba una vez; la protección contra bloqueo retiene los siguientes enlaces para que la cuenta no se bloquee.
dir-f-base-dn-label = DN base
dir-f-base-dn-help = Dónde empieza la búsqueda; se busca en todo lo que hay debajo.
dir-f-filter-label = Filtro
dir-f-filter-help = Qué entradas son personas que vigilar. Vacío: el filtro predeterminado de Active Directory (personas con buzón y la cuenta habilitada).
dir-preset-ad = Predeterminado de Active Directory
dir-preset-plain = Cualquier entrada con dirección de correo
dir-f-extra-ca-pem-label = Certificados de CA de confianza adicionales (PEM)
dir-f-extra-ca-pem-help = La CA que firmó el certificado del servidor, si es una CA privada.
dir-f-attr-email-label = Atributo del correo
dir-f-attr-name-label = Atributo del nombre
dir-f-attr-extension-label = Atributo de la extensión
dir-f-attr-extension-help = Para Graph: businessPhones (su primer número), mobilePhone o de extensionAttribute1 a 15; para LDAP cualquier atributo, por ejemplo telephoneNumber o ipPhone.
dir-f-attr-source-label = Atributo del origen (híbrido)
dir-f-attr-source-help = Un atributo cuyo valor nombra el origen de calendario que lee el buzón de la persona. Vacío: decide el enrutamiento.
dir-f-sync-interval-s-label = Intervalo de sincronización (segundos)
dir-f-sync-interval-s-help = De 300 (5 minutos) a 604800 (7 días). 3600 es una hora.
dir-f-max-removal-percent-label = Parte máxima que puede quitar una sincronización (%)
dir-f-max-removal-percent-help = Una sincronización que quitaría más personas del directorio retiene las bajas hasta que usted las confirme, así un filtro equivocado no puede vaciar la lista.
dir-created = Se añadió el directorio { $id }. Pruébelo, revise su vista previa y sincronícelo por primera vez.
dir-saved = Se guardó el directorio { $id }.
dir-password-retype = No se conservó la contraseña de enlace: escríbala de nuevo.
dir-id-refused = Se rechaza el id del directorio: { $problem }.
dir-id-exists = Ya existe un directorio con el id { $id }: edítelo desde la lista.

## Field errors (the first ones are the validator's English messages, word for word)
dir-err-name = como máximo 64 caracteres, sin caracteres de control
dir-err-attribute = un nombre de atributo: letras, cifras, '-' y ';'
dir-err-source-missing = el id del origen Graph que se usará
dir-err-group = el Id. de objeto de un grupo (un GUID)
dir-err-url = una URL ldaps:// o ldap://
dir-err-starttls = StartTLS es para URL ldap://; ldaps:// ya está cifrado
dir-err-plain = un enlace ldap:// simple envía la contraseña sin cifrar: use ldaps://, marque StartTLS o permita LDAP sin cifrar de forma explícita
dir-err-password-needed = se necesita la contraseña del DN de enlace
dir-err-base = el DN desde el que empieza la búsqueda
dir-err-ldap-string = como máximo 4096 caracteres, sin caracteres de control
dir-err-filter = un filtro LDAP entre paréntesis, por ejemplo (mail=*)
dir-err-interval = un número entero de segundos entre 300 y 604800
dir-err-percent = un porcentaje entre 0 y 100
dir-err-password-long = como máximo 1024 bytes
dir-err-no-graph-source = ningún origen Graph tiene el id { $id }

## Health
dir-open-page = Abrir Directorios
dir-health-held = Hay bajas que esperan su confirmación.

## The Watch list
dir-col-origin = Procedencia
dir-origin-manual = Añadida a mano
dir-origin-import = Importación
dir-import-file = O elija un archivo CSV
dir-import-file-help = Se lee como UTF-8 en el cuadro de arriba y se muestra en vista previa; no se guarda nada hasta que pulse Importar.
dir-import-file-too-large = El archivo es demasiado grande para una sola importación (unos 2 MB como máximo): divídalo.
dir-import-file-unreadable = No se pudo leer el archivo.
