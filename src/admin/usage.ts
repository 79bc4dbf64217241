/** turnadmin's usage line and help, in coturn's layout, with what Turnpike does differently. */

export const USAGE_LINE =
  'Usage: turnadmin COMMAND [-b FILE | -e CONNECTION | -N CONNECTION] [-u USER] [-r REALM] [-p PASSWORD] [-o ORIGIN] (turnadmin --help lists them)';

export const HELP = `Usage: turnadmin [command] [options]

Commands (give exactly one):

	-k, --key			print the long-term key 0x<md5(user:realm:password)> (-u -r -p)
	-a, --add			add or update a long-term user (-u -r -p)
	-d, --delete			delete a long-term user (-u -r)
	-A, --add-admin			add or update an admin user (-u -p, -r optional)
	-D, --delete-admin		delete an admin user (-u)
	-l, --list			list long-term users: name[realm] (-r to list one realm)
	-L, --list-admin		list admin users: name[realm]
	-s, --set-secret=<value>	add a TURN REST API shared secret (-r)
	-S, --show-secret		list shared secrets: secret[realm] (-r optional)
	-X, --delete-secret=<value>	delete a shared secret (-r)
	    --delete-all-secrets	delete every shared secret of a realm (-r)
	-O, --add-origin		map an origin to a realm (-o -r)
	-R, --del-origin		delete an origin mapping (-o)
	-I, --list-origins		list origins: origin ==>> realm (-r optional)
	-g, --set-realm-option		set --max-bps, --total-quota, --user-quota of a realm (-r);
					zero removes the option
	-G, --list-realm-options	list realm options: option[realm]=value (-r optional)
	-P, --generate-encrypted-password
					print coturn's encrypted form ($5$salt$sha256) of -p

Options with mandatory values:

	-b, --db, --userdb		SQLite database file; default: the first that exists of
					/var/db/turndb, /usr/local/var/db/turndb, /var/lib/turn/turndb
	-e, --psql-userdb, --sql-userdb	PostgreSQL database with coturn's schema: libpq's
					"host=H dbname=D user=U password=P connect_timeout=30"
					or postgresql://U:P@H:PORT/D
	-M, --mysql-userdb		MySQL/MariaDB database with coturn's schema:
					"host=H dbname=D user=U password=P port=3306 connect_timeout=10"
	-N, --redis-userdb		Redis database in coturn's key layout:
					"ip=H port=6379 dbname=0 password=P"
					(the last of -b, -e, -M and -N counts)
	-u, --user			user name
	-r, --realm			realm
	-p, --password			password
	-o, --origin			origin
	--max-bps, --total-quota, --user-quota
					realm option values (whole numbers; 0 removes)
	-h, --help			this help

Not supported yet (exit status 1): -J/--mongo-userdb,
and the AES options -E, -x, -f, -v.

Exit status: 0 done, 1 bad input or database problem, 2 bad command line.
Turnpike only: turnpike admin credentials --help (TURN REST API credentials).
`;
