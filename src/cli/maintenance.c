/* Erasure, backup and key rotation: whole-vault and destructive work. */
#include <stdio.h>

#include "cli.h"

static void
erased_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("erased %s: its key and records are destroyed\n", c->pos[0]);
}

int
cmd_erase(struct cli *c)
{
	cli_arg_str(c, "case", c->pos[0]);
	return cli_call(c, NULL, erased_print);
}

static void
backup_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("backed up to %s\n", c->pos[0]);
}

int
cmd_backup(struct cli *c)
{
	cli_arg_str(c, "dest", c->pos[0]);
	return cli_call(c, NULL, backup_print);
}

static void
restore_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("restored the store from %s; the trail records it\n", c->pos[0]);
}

int
cmd_restore(struct cli *c)
{
	cli_arg_str(c, "src", c->pos[0]);
	return cli_call(c, NULL, restore_print);
}

static void
rotated_print(const struct cli *c, const json_t *j)
{
	(void)j;
	if (c->opt[OPT_ROOT] != NULL)
		printf("root key rotated; every keyslot re-sealed, every case "
		       "key re-wrapped\n");
	else
		printf("key-encryption key rotated; every case key "
		       "re-wrapped\n");
}

int
cmd_key_rotate(struct cli *c)
{
	cli_arg_flag(c, "root", c->opt[OPT_ROOT] != NULL);
	return cli_call(c, NULL, rotated_print);
}
