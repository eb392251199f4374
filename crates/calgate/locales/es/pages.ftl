# calgate en español. Las mismas claves que el catálogo inglés (una prueba lo comprueba).

## Navigation and the page frame
nav-settings = Configuración
nav-sources = Orígenes
nav-health = Estado
nav-people = Personas vigiladas
nav-logs = Registros
nav-tokens = Tokens de API
nav-account = Cuenta
nav-console = Consola de operador
sign-out = Cerrar sesión
lang-label = Idioma
lang-apply = Aplicar

## Sign-in
login-title = Iniciar sesión
login-admin = Administrador
login-username = Usuario
login-password = Contraseña
login-submit = Iniciar sesión
login-operator = Operador
login-token = Token de API de la consola
login-open-console = Abrir la consola

## A calendar source's state
state-starting = Iniciando: aún sin respuesta del servidor
state-ok = OK: se están leyendo los calendarios
state-degraded = Degradado: algunos buzones fallan
state-throttled = Limitado: el servidor pidió a calgate que espere
state-auth-failed = Error de autenticación: se rechazaron las credenciales
state-unreachable = Inaccesible: el servidor no responde
state-misconfigured = Mal configurado: esta configuración no puede funcionar
state-disabled = Desactivado: no hay ningún origen de calendario configurado

## A person's status, said on the server
st-busy-until = En una reunión hasta las { $time }

## The operator console
c-title = Consola de operador
c-directory = Directorio
c-search-label = Buscar por nombre, correo o extensión
c-search-placeholder = Escriba un nombre, un correo o una extensión…
c-people = Personas
c-connecting = conectando…
c-no-one = Sin resultados.
c-hint = Escriba para buscar, ↑ ↓ para moverse, Intro para abrir.
c-live = en directo
c-reconnecting = reconectando…
c-signed-out = sesión cerrada
c-free-until = Libre hasta las $TIME
c-free = Libre
c-free-rest = Libre el resto del día
c-busy-until = En una reunión hasta las $TIME
c-busy = En una reunión
c-tentative-until = Provisional hasta las $TIME
c-tentative = Provisional
c-oof-until = Fuera de la oficina hasta el $TIME
c-oof-back = Fuera de la oficina, vuelve el $DAY
c-oof = Fuera de la oficina
c-elsewhere-until = Trabaja en otro lugar hasta las $TIME
c-elsewhere = Trabaja en otro lugar
c-unknown = Desconocido
c-unknown-unavailable = Desconocido — calendario no disponible
c-not-current = no actualizado: leído $AGO
c-not-read = aún no leído
c-just-now = ahora mismo
c-s-ago = hace $N s
c-min-ago = hace $N min
c-h-ago = hace $N h
c-never = nunca
c-next-free = Próximo hueco libre
c-now = Ahora
c-teams = Teams
c-pres-in-a-call = En una llamada
c-pres-in-a-conference-call = En una conferencia telefónica
c-pres-in-a-meeting = En una reunión (Teams)
c-pres-presenting = Presentando
c-pres-do-not-disturb = No molestar
c-pres-busy = Ocupado
c-pres-away = Ausente
c-pres-be-right-back = Vuelvo enseguida
c-pres-available = Disponible
c-pres-offline = Sin conexión
c-pres-unknown = presencia desconocida
c-pres-other = $VALUE
c-private = Cita privada
c-subject-hidden = (asunto oculto)
c-why-unknown = Por qué desconocido
c-data = Datos
c-as-of = actualizados $AGO
c-stale-note = no actualizados: no se pudo leer el calendario recientemente
c-error-note = no se puede leer el calendario
c-out-of-office = Fuera de la oficina
c-until-day = hasta el $DAY.
c-working-hours = Horario laboral
c-your-time = su hora
c-today = Hoy
c-no-data = Desconocido: sin datos de calendario.
c-no-appointments = Sin citas hoy.
c-all-day = todo el día
c-extension = extensión
c-search-failed = la búsqueda falló: $ERROR
c-could-not-load = No se pudo cargar $EMAIL: $ERROR

## The Health page
h-title = Estado
h-retried = Reintento solicitado: calgate lo intenta una vez ahora. Recargue en unos segundos para ver el resultado.
h-source-default = Origen de calendario
h-state-code = código de estado, para soporte
h-since = En este estado desde
h-last-success = Último éxito
h-next-attempt = Próximo intento
h-error-code = Código de error
h-message = Mensaje
h-guard = Protección contra bloqueo
h-guard-holding = Retiene los demás inicios de sesión hasta el próximo intento, para que una contraseña incorrecta no bloquee la cuenta.
h-likely-cause = Causa probable:
h-what-to-do = Qué hacer:
h-retry-now = Reintentar ahora
h-auth-title = Por qué pudo rechazarse la cuenta
h-auth-intro = Se rechazó la cuenta de Microsoft que usa calgate. Exchange bloquea una cuenta así en segundos si sigue fallando, así que compruebe esto, en orden:
h-details = Detalles:
h-all-sources = Todos los orígenes
h-col-source = Origen
h-col-state = Estado
h-col-code = Código
h-sources-help = La configuración, "Reintentar ahora" y el enrutamiento de cada origen están en la página
h-mb-title = Buzones por actualidad
h-fresh = actualizados
h-stale = no actualizados
h-with-errors = con errores
h-not-read = aún no leídos
h-failing-title = Buzones que fallan
h-failing-help = Se muestran como desconocidos en la consola hasta corregir la causa; los primeros por dirección (todos:
h-col-person = Persona
h-col-why = Por qué
h-col-what = Qué hacer
h-source-word = origen
h-err-title = Errores y advertencias recientes
h-err-help = Primero los problemas actuales; los que terminó un éxito posterior se marcan como resueltos.
h-none = Ninguno en los archivos de registro.
h-col-time = Hora
h-col-level = Nivel
h-resolved = resuelto

## Times in words
rel-just-now = ahora mismo
rel-s = { $n } s
rel-min = { $n } min
rel-h = { $n } h
rel-days = { $n } días
rel-ago = hace { $amount }
rel-in = dentro de { $amount }
rel-never = nunca

## Dates on the server-rendered pages: short names separated by spaces, Monday first
date-weekdays = lun mar mié jue vie sáb dom
date-months = ene feb mar abr may jun jul ago sept oct nov dic
date-day-time = { $weekday } { $day } { $month } { $time }
date-times-note = Las horas de esta página están en la zona horaria del sitio, { $zone }. La consola del operador las muestra en la zona horaria de su navegador.
h-due-now = ahora (previsto { $when })
h-regular = según el calendario normal

## The Logs page
l-at-least = Mostrar al menos
l-filter = Filtrar
l-download = Descargar los archivos de registro (líneas JSON)
l-none = No hay entradas de este nivel o superior en los archivos de registro.

## The Account page
a-title = Cuenta
a-change-title = Cambiar la contraseña del administrador
a-after-change = Tras el cambio, este navegador sigue conectado; cualquier otro navegador conectado con la contraseña anterior se desconecta.
a-current = Contraseña actual
a-new = Contraseña nueva
a-new-help = Al menos 12 caracteres, distinta de la actual. Una frase de pocas palabras es fácil de escribir y difícil de adivinar.
a-confirm = Repita la contraseña nueva
a-submit = Cambiar la contraseña

## The API tokens page
t-title = Tokens de API
t-title2 = Tokens de API
t-copy-now = Cópielo ahora: solo se muestra esta vez.
t-copy = Copiar
t-tokens = Tokens
t-none = No hay tokens.
t-col-label = Etiqueta
t-col-role = Rol
t-col-created = Creado
t-col-used = Último uso
t-revoke = Revocar
t-new = Token nuevo
t-label = Etiqueta (quién lo usa)
t-role = Rol
t-role-console = lee personas y estados
t-role-admin = todo
t-create = Crear

## The Watch list page
p-title = Personas vigiladas
p-title2 = Personas vigiladas
p-watched = personas vigiladas
p-search = Buscar
p-search-ph = nombre, correo o extensión
p-data = Datos
p-everyone = todos
p-failing = con errores
p-not-current = no actualizados
p-not-read = aún no leídos
p-current = actualizados
p-search-button = Buscar
p-add = Añadir una persona
p-import = Importar
p-rows = Una persona por línea: correo, nombre, extensión
p-skip = omitir filas no válidas
p-preview = Vista previa
p-import-button = Importar

## The Sources page
s-title = Orígenes
s-title2 = Orígenes
s-cancel = Cancelar
s-list = Orígenes de calendario
s-col-provider = Proveedor
s-col-routed = Enrutado aquí
s-nothing = nada
s-routing = Enrutamiento
s-routing-help = Qué origen lee el calendario de quién: la regla de un buzón gana a la de su dominio, que gana al origen predeterminado.
s-default = Origen predeterminado
s-domains = Reglas por dominio
s-mailboxes = Reglas por buzón
s-save-routing = Guardar enrutamiento
s-add = Añadir un origen
s-id = Id del origen
s-id-help = De 1 a 32 caracteres entre a-z, 0-9 y -. El enrutamiento lo nombra así; no cambia después.
s-name = Nombre visible
s-continue = Continuar a su configuración
s-created = El origen se crea al guardar su configuración por primera vez.

## Health: Graph change notifications
h-notif-title = Notificaciones de cambios (Microsoft Graph)
h-notif-help = Microsoft Graph avisa a calgate cuando cambia un calendario; todos se siguen leyendo en el barrido de seguridad, y las personas sin una suscripción que funcione en el intervalo de actualización.
h-notif-subscriptions = suscripciones activas
h-notif-received = notificaciones recibidas
h-notif-accepted = procesadas
h-notif-dropped = descartadas (clientState incorrecto, suscripción desconocida o ilegibles)
h-notif-renewed = renovaciones
h-notif-failed = suscripciones que no se pudieron crear (esas personas se leen en el intervalo de actualización)
h-notif-delay = de media desde una notificación hasta el nuevo estado
h-cluster-title = Pasarelas en esta base de datos
h-cluster-db-ok = La base de datos responde.
h-cluster-db-down = No se puede acceder a la base de datos: esta pasarela no lee nada hasta que vuelva.
h-cluster-id = Pasarela
h-cluster-address = Dirección
h-cluster-leases = Concesiones de particiones
h-cluster-heartbeat = Último latido
h-cluster-this = esta
