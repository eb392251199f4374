# calgate: notices and confirmations (es)

## Shared words
n-db-no-answer = La base de datos no respondió: { $error }
n-db-refused = La base de datos lo rechazó: { $error }
n-db-refused-op = La base de datos rechazó la operación: { $error }
n-shutting-down = La pasarela se está deteniendo.
n-col-actions = Acciones
n-add = Añadir
n-edit = Editar
n-save = Guardar
n-remove = Eliminar
n-reset = Restablecer

## Refusals before any page (plain text answers)
n-session-ended = su sesión ha terminado: vuelva a iniciar sesión
n-admin-only = esta página es para el administrador; los operadores usan la consola
n-cross-site = solicitud desde otro sitio rechazada
n-form-too-large = formulario demasiado grande
n-csrf-refused = falta el token del formulario (CSRF) o es incorrecto: recargue la página e inténtelo de nuevo

## Sign-in
n-login-wrong = Usuario o contraseña incorrectos.
n-login-bad-token = Ese token no es válido.
n-login-too-many = Demasiados inicios de sesión fallidos. Inténtelo de nuevo en { $secs } s.

## The Account page
n-pw-signed-in-as = Sesión iniciada como
n-pw-with-password = con la contraseña del administrador.
n-pw-with-token = con un token de API de administrador.
n-pw-not-changed = La contraseña no se ha cambiado.
n-pw-enter-current = Introduzca su contraseña actual.
n-pw-too-short = Use al menos { $min } caracteres.
n-pw-too-long = Use como máximo { $max } bytes.
n-pw-same = Elija una contraseña distinta de la actual.
n-pw-differ = Las dos contraseñas nuevas no coinciden: escriba la misma dos veces.
n-pw-no-admin = No hay ninguna cuenta de administrador configurada.
n-pw-too-many = Demasiadas contraseñas incorrectas. Inténtelo de nuevo en { $secs } s.
n-pw-wrong-current = Esa no es la contraseña actual.
n-pw-db-refused = La base de datos lo rechazó: { $error }. La contraseña no se ha cambiado.
n-pw-changed = Contraseña cambiada. Los demás navegadores conectados con la contraseña anterior se han desconectado.

## The API tokens page
n-token-label = Dé al token una etiqueta de 1 a 100 caracteres (quién lo usa).
n-token-created = Token «{ $label }» creado.
n-token-revoked = Token «{ $label }» revocado.
n-token-gone = Ese token ya no existe.

## The Watch list page
n-person-too-long = Use como máximo { $max } caracteres imprimibles.
n-person-name-needed = Indique un nombre: la dirección es demasiado larga para mostrarse en su lugar.
n-person-ext-spaces = Una extensión no lleva espacios (2001; +49 30 1234 se escribe +49301234).
n-person-not-watched = { $email } no está entre las personas vigiladas.
n-person-failed = con error
n-person-not-email = No es una dirección de correo: introduzca la dirección del buzón de la persona.
n-person-not-added = No se añadió { $email }: { $problem }
n-person-added = Se añadió { $email }.
n-person-edit-gone = { $email } no está entre las personas vigiladas: no se guardó nada.
n-person-edit-refused = No se guardó nada para { $email }: revise el formulario.
n-person-saved = Se guardó { $email }.
n-person-removed = Se eliminó { $email }.
n-person-remove-gone = { $email } no estaba entre las personas vigiladas.
n-person-edit-label = Editar { $email }
n-person-remove-label = Eliminar { $email }
n-person-key-help = La dirección es la clave: para cambiarla, elimine a la persona y añada la dirección nueva.
n-person-first = Se muestran las primeras { $count } personas; busque para encontrar las demás.
n-col-name = Nombre
n-col-email = Correo
n-col-extension = Extensión
n-col-line = Línea
n-col-ext-short = Ext.
n-col-problem = Problema
n-import-ok = ok
n-import-not-email = no es una dirección de correo
n-import-columns = más de tres columnas (correo, nombre, extensión)
n-import-ext-spaces = la extensión tiene espacios
n-import-twice = aparece dos veces
n-import-too-long = el nombre o la extensión es demasiado largo o contiene caracteres de control
n-import-malformed = el CSV no se puede leer a partir de aquí (unas comillas no se cierran)
n-import-too-many = más de 200 000 filas; el resto no se leyó
n-import-summary = { $ok ->
        [one] { $ok } válida
       *[other] { $ok } válidas
    }, { $bad } con errores.
n-imported = { $count ->
        [one] Se importó { $count } persona
       *[other] Se importaron { $count } personas
    }; personas vigiladas ahora: { $total }.
n-import-refused = No se importó nada: { $bad ->
        [one] hay que corregir { $bad } fila
       *[other] hay que corregir { $bad } filas
    } (o marque «{ p-skip }»).
n-import-empty = Pegue una persona por línea: correo, nombre, extensión.

## The Sources page
n-routes-default = origen predeterminado
n-routes-domains = { $count ->
        [one] { $count } dominio
       *[other] { $count } dominios
    }
n-routes-mailboxes = { $count ->
        [one] { $count } buzón
       *[other] { $count } buzones
    }
n-src-not-configured = { $id } (no configurado)
n-src-no-such = No existe ese origen: { $problem }.
n-src-unknown-id = Ningún origen tiene el id { $id }.
n-src-id-refused = Se rechazó el id del origen: { $problem }.
n-src-id-exists = Ya existe un origen con el id { $id }: abra su configuración desde la lista.
n-src-name-placeholder = Exchange local
n-src-reset-done = Origen { $id } restablecido: se borraron su configuración y sus secretos guardados.
n-src-removed = Se eliminó el origen { $id } junto con sus secretos guardados.
n-src-reset-in-use = El origen { $id } no se restableció: el enrutamiento aún lo nombra ({ $routes }). Primero enrute sus dominios y buzones a otro origen (y elija otro origen predeterminado).
n-src-remove-in-use = El origen { $id } no se eliminó: el enrutamiento aún lo nombra ({ $routes }). Primero enrute sus dominios y buzones a otro origen (y elija otro origen predeterminado).
n-src-reset-failed = El origen { $id } no se restableció: { $error }
n-src-remove-failed = El origen { $id } no se eliminó: { $error }
n-src-retry = Reintento solicitado: el origen { $id } lo intenta una vez ahora. Recargue en unos segundos.
n-src-reset-label = Restablecer { $id }
n-src-remove-label = Eliminar { $id }
n-confirm-reset-title = ¿Restablecer el origen { $id }?
n-confirm-reset-body = Se borran su configuración y sus secretos guardados; sigue en la lista, sin configurar, hasta que guarde una configuración nueva.
n-confirm-remove-title = ¿Eliminar el origen { $id }?
n-confirm-remove-body = Se eliminan su configuración y sus secretos guardados.
n-confirm-routed = El enrutamiento aún lo nombra
n-confirm-routed-reset = ({ $routes }): enrute eso a otro origen primero, o se rechazará el restablecimiento.
n-confirm-routed-remove = ({ $routes }): enrute eso a otro origen primero, o se rechazará la eliminación.
n-confirm-reset-yes = Sí, restablecer { $id }
n-confirm-remove-yes = Sí, eliminar { $id }

## The routing editor
n-routing-saved = Enrutamiento guardado y aplicado.
n-routing-not-saved = El enrutamiento no se guardó: { $error }
n-routing-errors = No se guardó nada: { $count ->
        [one] { $count } regla requiere
       *[other] { $count } reglas requieren
    } atención.
n-route-domain = Dominio { $domain }
n-route-mailbox = Buzón { $mailbox }
n-route-line-domain = línea { $line }: escríbala como dominio = id-origen
n-route-line-address = línea { $line }: escríbala como dirección = id-origen
n-route-twice = línea { $line }: { $key } aparece dos veces
n-rule-a-line = Una regla por línea:
n-rule-domain = dominio = id-origen
n-rule-address = dirección = id-origen
n-rule-configured = Orígenes configurados: { $ids }.
n-rule-address-why = para buzones que no están donde está su dominio.
