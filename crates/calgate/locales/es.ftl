# calgate en español. Las mismas claves que el catálogo inglés (una prueba lo comprueba).

## Navigation and the page frame
nav-settings = Configuración
nav-sources = Orígenes
nav-health = Estado
nav-people = Personas vigiladas
nav-logs = Registros
nav-tokens = Tokens de API
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
