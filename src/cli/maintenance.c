/* Erasure, backup and key rotation: whole-vault and destructive work. */
#include <stdio.h>

#include "cli.h"

static int
erase_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_case_erase(s, c->pos[0])) == 0)
		*out = json_pack("{s:s}", "erased", c->pos[0]);
	return r;
}

static void
erased_print(const struct cli *c, const json_t *j)
{
	(void)j;
	printf("erased %s: its key and records are destroyed\n", c->pos[0]);
}

int
cmd_erase(struct cli *c)
{
	return cli_call(c, erase_call, erased_print);
}

static int
backup_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_vault_backup(s, c->pos[0])) == 0)
		*out = json_pack("{s:s}", "backup", c->pos[0]);
	return r;
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
	return cli_call(c, backup_call, backup_print);
}

static int
restore_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	if ((r = cv_vault_restore(s, c->pos[0])) == 0)
		*out = json_pack("{s:s}", "restored", c->pos[0]);
	return r;
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
	return cli_call(c, restore_call, restore_print);
}

static int
rotate_call(struct cli *c, struct cv_session *s, json_t **out)
{
	int r;

	(void)c;
	if ((r = cv_key_rotate(s)) == 0)
		*out = json_pack("{s:b}", "rotated", 1);
	return r;
}

static void
rotated_print(const struct cli *c, const json_t *j)
{
	(void)c;
	(void)j;
	printf("key-encryption key rotated; every case key re-wrapped\n");
}

int
cmd_key_rotate(struct cli *c)
{
	return cli_call(c, rotate_call, rotated_print);
}
