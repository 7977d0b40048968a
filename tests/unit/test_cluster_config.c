/* test_cluster_config.c - the cluster's flags (src/server/config.c): --nats, --node-name,
 * --cluster-name, --presence-lease; their defaults leave a single node; bad values refused. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "tap.h"

static int parse(struct config *cfg, int argc, const char **argv)
{
	config_init(cfg);
	return config_parse_args(cfg, argc, (char **)argv);
}

/* pierd --FLAG VALUE: 0 or -1. */
static int one(const char *flag, const char *value)
{
	struct config cfg;
	const char *argv[] = { "pierd", flag, value };

	return parse(&cfg, 3, argv);
}

int main(void)
{
	struct config cfg;

	{
		const char *argv[] = { "pierd" };

		CHECK(parse(&cfg, 1, argv) == 0 && cfg.nats[0] == '\0', "no --nats: one node alone");
		CHECK(strcmp(cfg.cluster_name, "pier") == 0 && cfg.node_name[0] == '\0' &&
		      cfg.presence_lease == 10, "defaults: cluster pier, node name from the host, 10 s");
	}
	{
		const char *argv[] = { "pierd", "--nats", "nats://127.0.0.1:4222,nats://[::1]:4223",
		                       "--node-name", "node-1.eu", "--cluster-name", "chat_2",
		                       "--presence-lease", "4.5" };

		CHECK(parse(&cfg, 9, argv) == 0, "the four flags");
		CHECK(strcmp(cfg.nats, "nats://127.0.0.1:4222,nats://[::1]:4223") == 0, "--nats kept");
		CHECK(strcmp(cfg.node_name, "node-1.eu") == 0 && strcmp(cfg.cluster_name, "chat_2") == 0 &&
		      cfg.presence_lease == 4.5, "names and lease");
	}
	{
		const char *argv[] = { "pierd", "--nats", "nats://h:1", "--nats", "off" };

		CHECK(parse(&cfg, 5, argv) == 0 && cfg.nats[0] == '\0', "--nats off turns it off");
	}
	CHECK(one("--nats", "tls://h:4222") == 0, "tls:// URL");
	CHECK(one("--nats", "http://h:4222") != 0, "not a NATS URL");
	CHECK(one("--nats", "") != 0, "empty");
	CHECK(one("--nats", "nats://h:1,") != 0, "a trailing comma");
	CHECK(one("--nats", "nats://h:1,,nats://h:2") != 0, "an empty element");
	CHECK(one("--nats", "nats://") != 0, "a scheme alone");
	CHECK(one("--nats", "nats://user:secret@h:4222") != 0, "no password on the command line");
	CHECK(one("--nats", "nats://h:1 ,nats://h:2") != 0, "no spaces");
	CHECK(one("--nats", "nats://a:1,nats://b:1,nats://c:1,nats://d:1,nats://e:1,nats://f:1,"
	               "nats://g:1,nats://h:1,nats://i:1,nats://j:1,nats://k:1,nats://l:1,"
	               "nats://m:1,nats://n:1,nats://o:1,nats://p:1,nats://q:1") != 0,
	      "at most 16 servers");
	CHECK(one("--node-name", "a b") != 0, "a node name with a space");
	CHECK(one("--node-name", "") != 0, "an empty node name");
	CHECK(one("--node-name", "x*") != 0, "a node name with a wildcard");
	CHECK(one("--node-name", "0123456789012345678901234567890123456789012345678901234567890123")
	      == 0, "a node name of 64");
	CHECK(one("--node-name", "01234567890123456789012345678901234567890123456789012345678901234")
	      != 0, "a node name of 65");
	CHECK(one("--cluster-name", "a.b") != 0, "a cluster name is one subject token");
	CHECK(one("--cluster-name", ">") != 0, "a wildcard is no cluster name");
	CHECK(one("--presence-lease", "0") != 0, "a lease of 0");
	CHECK(one("--presence-lease", "-3") != 0, "a negative lease");
	return tap_done();
}
