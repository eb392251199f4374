# calgate: guidance words (es)

## Error codes: likely cause and what to do
g-unreadable-cause = El servidor respondió de una forma que calgate no puede interpretar.
g-unreadable-fix = Consulte el mensaje y la página Registros para ver los detalles; vuelva a probar después de corregirlo.
g-credentials-refused-cause = El servidor rechazó las credenciales de la cuenta de servicio (contraseña incorrecta o cambiada, cuenta bloqueada o método de inicio de sesión no permitido).
g-credentials-refused-fix = Compruebe el usuario y la contraseña (o el inquilino, el Id. de cliente y el secreto de cliente), vuelva a guardarlos y pruebe. Si la cuenta se bloqueó, espere primero a que se levante el bloqueo.
g-account-blocked-cause = Entra ID indica que la cuenta está bloqueada o deshabilitada, o que una directiva la bloquea.
g-account-blocked-fix = Pida a su administrador de Microsoft 365 que desbloquee o habilite la cuenta de servicio, o que la excluya de la directiva de acceso condicional que la bloquea.
g-admin-consent-cause = El registro de aplicación no tiene concedido el consentimiento del administrador.
g-admin-consent-fix = En Entra ID, abra los permisos de API del registro de aplicación y conceda el consentimiento del administrador; después vuelva a probar.
g-unreachable-cause = calgate no pudo conectar con el servidor (nombre, firewall, proxy o TLS).
g-unreachable-fix = Compruebe la URL de EWS o el punto de conexión de Graph, que este equipo pueda alcanzarlo y que su certificado sea de confianza (añada una CA privada en "Configuración de conexión avanzada").
g-throttled-cause = El servidor está limitando a calgate: demasiadas solicitudes para esta cuenta.
g-throttled-fix = calgate espacia los intentos por sí solo. Si ocurre a menudo, aumente el "Intervalo de actualización de datos" o vigile a menos personas con esta cuenta.
g-mailbox-unknown-cause = El servidor no conoce este buzón.
g-mailbox-unknown-fix = Compruebe la dirección de correo (la dirección SMTP principal, no un alias).
g-no-free-busy-cause = La cuenta de servicio no tiene permiso para leer la disponibilidad de este calendario.
g-no-free-busy-fix = Conceda a la cuenta acceso a la disponibilidad (o Calendars.Read) del buzón, o el permiso de aplicación para el acceso app-only a través de Graph.
g-exchange-version-cause = El servidor no acepta solicitudes en la versión de Exchange elegida.
g-exchange-version-fix = En "Versión de Exchange", elija la versión más antigua de entre sus servidores.
g-sign-in-missing-cause = Está elegida la autenticación moderna, pero ningún administrador ha iniciado sesión todavía (o se eliminó el inicio de sesión guardado).
g-sign-in-missing-fix = Inicie sesión con código de dispositivo en "Configuración de integración de calendario" y vuelva a probar.
g-entra-refused-cause = Entra ID rechazó el inicio de sesión.
g-entra-refused-aadsts-fix = Compruebe el Id. de directorio (inquilino), el Id. de aplicación (cliente) y la cuenta; el código indica el motivo de Entra ID (búsquelo como AADSTS seguido del número).
g-entra-refused-fix = Compruebe el Id. de directorio (inquilino), el Id. de aplicación (cliente) y la cuenta; el código indica el motivo de Entra ID.
g-settings-incomplete-cause = La configuración guardada está incompleta para el proveedor elegido.
g-settings-incomplete-fix = Rellene los campos que indica el mensaje y vuelva a guardar.

## Why the service account may have been refused, in the order to check
g-auth-1-cause = La directiva de la cuenta no permite leer calendarios con tanta frecuencia.
g-auth-1-fix = Aumente el "Intervalo de actualización de datos" (300 s es un valor inicial seguro) o pida que se excluya la cuenta de la directiva de limitación o bloqueo; después pulse "Reintentar ahora".
g-auth-2-cause = Alguien cambió la contraseña de la cuenta de servicio, así que la guardada ya no es válida.
g-auth-2-fix = Introduzca la nueva contraseña en "Configuración de integración de calendario" y guarde; calgate deja de usar la anterior de inmediato.
g-auth-3-cause = Las credenciales se cambiaron mientras calgate estaba en marcha, y los intentos repetidos con las anteriores hicieron que se bloqueara la cuenta.
g-auth-3-fix = calgate retiene los siguientes intentos (la protección contra bloqueo) para que el bloqueo pueda expirar. Guarde las credenciales correctas, espere a que se levante el bloqueo y pulse "Reintentar ahora".

## Why a settings warning matters
gw-both-auth-enabled = Si mantiene habilitadas ambas autenticaciones, al guardar la configuración se muestra una advertencia: se usa la autenticación moderna, y Basic solo cuando el servidor no ofrece ningún inicio de sesión Bearer — nunca tras un rechazo de credenciales. Desmarque Basic salvo que necesite esa alternativa.
gw-windows-auth-order = La autenticación de Windows está permitida junto a otro inicio de sesión. El orden es fijo: moderna, luego Windows, luego Basic, cada una solo cuando el servidor no ofrece la anterior. Una contraseña rechazada nunca se vuelve a probar con otro método.
gw-basic-auth-exchange-online = Exchange Online rechaza la autenticación Basic, así que esta opción no funcionará allí. Déjela desmarcada.
gw-ews-online-retirement = Microsoft está retirando EWS de Exchange Online. Planifique el paso a Microsoft 365 (Graph) antes de las fechas indicadas arriba.
gw-refresh-interval-low = Actualizar con tanta frecuencia puede hacer que la cuenta de servicio quede limitada o bloqueada — la primera causa de las notas de solución de problemas. De todos modos, el inicio y el fin de las reuniones se muestran al segundo.
gw-insecure-http = Las contraseñas y los datos de calendario viajan sin cifrar por http://. Úselo solo en un entorno de pruebas.
gw-local-target = La dirección apunta al propio equipo de la pasarela. Es correcto para un proxy local o un entorno de pruebas; contra un Exchange o Microsoft 365 real es un error.
gw-ews-url-unusual-path = Las URL de EWS suelen terminar en /EWS/Exchange.asmx; compruebe la dirección si la prueba de conexión falla.

## Directory syncs: likely cause and what to do
g-dir-bind-refused-cause = El servidor de directorio rechazó el DN de enlace o su contraseña.
g-dir-bind-refused-fix = Compruebe el DN de enlace y la contraseña de enlace en la página Directorios y vuelva a guardarlos. La protección contra bloqueo retiene los siguientes enlaces con la contraseña rechazada, para que los reintentos no bloqueen la cuenta.
g-dir-bind-held-cause = La contraseña de enlace ya fue rechazada, y la protección contra bloqueo retiene los siguientes enlaces con ella hasta su próximo intento de prueba.
g-dir-bind-held-fix = Guarde la contraseña de enlace correcta (una contraseña nueva se prueba enseguida) o espere al próximo intento de prueba de la protección.
g-dir-removal-held-cause = La sincronización quitaría más personas del directorio de las que permite su límite, así que no se quitó a nadie.
g-dir-removal-held-fix = Revise la vista previa: si esas personas se fueron de verdad, confirme las bajas; si no, corrija el filtro o el DN base y vuelva a sincronizar.
g-dir-empty-cause = El directorio no devolvió a nadie, así que la lista de personas vigiladas quedó como estaba.
g-dir-empty-fix = Compruebe el filtro, el DN base o el grupo: una prueba debería listar personas.
g-dir-insecure-cause = Una conexión ldap:// simple sin StartTLS enviaría la contraseña de enlace sin cifrar, así que se rechazó.
g-dir-insecure-fix = Use una URL ldaps:// o marque StartTLS; permita LDAP sin cifrar solo en un entorno de pruebas.
g-dir-unreachable-cause = calgate no pudo conectar a tiempo con el servidor de directorio (nombre, red, firewall o puerto).
g-dir-unreachable-fix = Compruebe la URL LDAP (host y puerto: 636 para LDAPS, 389 para StartTLS) y que este equipo llega al servidor.
g-dir-tls-cause = Falló el protocolo de enlace TLS con el servidor de directorio: su certificado no es de confianza, o no habla TLS en ese puerto.
g-dir-tls-fix = Añada la CA que firmó el certificado del servidor en Certificados de CA de confianza adicionales y compruebe el puerto y el esquema de la URL (ldaps:// o StartTLS).
g-dir-filter-cause = No se puede leer el filtro LDAP.
g-dir-filter-fix = Escriba el filtro entre paréntesis, por ejemplo (mail=*), o elija uno de los filtros predefinidos.
g-dir-base-cause = El DN base no existe en el servidor de directorio.
g-dir-base-fix = Compruebe cómo está escrito el DN base (por ejemplo DC=contoso,DC=com) y que el DN de enlace puede leerlo.
g-dir-referral-cause = El servidor de directorio remitió a calgate a otro servidor, y calgate no sigue esas referencias.
g-dir-referral-fix = Use el servidor que contiene el DN base (en Active Directory, un controlador de ese dominio, o el catálogo global en el puerto 3269).
g-dir-search-cause = El servidor de directorio rechazó la búsqueda.
g-dir-search-fix = Lea el mensaje; compruebe que el DN de enlace puede buscar bajo el DN base y que el servidor permite búsquedas paginadas.
g-dir-skipped-cause = Algunas entradas no se podían usar (sin dirección o con varias, un valor demasiado grande, o una persona ya vigilada de otra forma) y se omitieron.
g-dir-skipped-fix = Las advertencias nombran cada entrada. Corríjalas en el directorio o déjelas así: las demás se sincronizan.
g-dir-malformed-cause = No se pudo leer la respuesta del directorio.
g-dir-malformed-fix = Vuelva a probar; si sigue fallando, consulte la página Registros y compruebe qué hay entre calgate y el servidor (un proxy o un equilibrador de carga).
g-dir-graph-source-cause = El origen Graph cuyas credenciales de aplicación usa este directorio no existe, o no es un origen Microsoft 365 (Graph).
g-dir-graph-source-fix = Elija un origen Microsoft 365 (Graph) existente en el formulario del directorio, o añada uno en la página Orígenes.
g-dir-delta-expired-cause = Microsoft Graph ya no aceptó el enlace de cambios guardado, así que se volvió a leer a todo el mundo.
g-dir-delta-expired-fix = No hay nada que hacer: las próximas sincronizaciones vuelven a leer solo los cambios.
g-dir-group-cause = Microsoft Graph no tiene ningún grupo con este Id. de objeto.
g-dir-group-fix = Copie el Id. de objeto del grupo desde Entra ID (Grupos, el grupo, Información general), o deje el campo vacío para todo el mundo.
