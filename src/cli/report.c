/* The report group: the coverage indicator (docs/indicator.md). */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

/*
 * With --csv the result is turned into the CSV text, as a JSON string:
 * a presentation of the report the request returns.
 */
static int
csv_of(json_t **out)
{
	char *csv;
	int r;

	r = cv_report_indicator_csv(*out, &csv);
	json_decref(*out);
	*out = NULL;
	if (r != 0)
		return r;
	*out = json_string(csv);
	free(csv);
	return *out != NULL ? 0 : CV_ENOMEM;
}

static void
cell_print(const char *name, const json_t *cell)
{
	const json_t *p = json_object_get(cell, "percent");
	char num[24], den[24], pct[24];

	if (json_is_true(json_object_get(cell, "suppressed")) ||
	    !json_is_integer(json_object_get(cell, "denominator")))
		snprintf(den, sizeof(den), "*");
	else
		snprintf(den, sizeof(den), "%lld",
		    (long long)json_integer_value(
		        json_object_get(cell, "denominator")));
	if (!json_is_integer(json_object_get(cell, "numerator")))
		snprintf(num, sizeof(num), "*");
	else
		snprintf(num, sizeof(num), "%lld",
		    (long long)json_integer_value(
		        json_object_get(cell, "numerator")));
	if (json_is_number(p))
		snprintf(pct, sizeof(pct), "%.1f", json_number_value(p));
	else
		snprintf(pct, sizeof(pct), "%s",
		    json_is_true(json_object_get(cell, "suppressed")) ||
		            num[0] == '*'
		        ? "*"
		        : "-");
	printf("  %-14s %10s %12s %8s\n", name, num, den, pct);
}

static void
indicator_print(const struct cli *c, const json_t *j)
{
	const json_t *p = json_object_get(j, "percent"), *cell;
	const char *k;

	if (c->opt[OPT_CSV] != NULL) {
		fputs(json_string_value(j), stdout);
		return;
	}
	printf("Coverage of social rehabilitation by trained officers, %lld\n",
	    (long long)json_integer_value(json_object_get(j, "year")));
	printf("numerator    %lld\n",
	    (long long)json_integer_value(json_object_get(j, "numerator")));
	printf("denominator  %lld\n",
	    (long long)json_integer_value(json_object_get(j, "denominator")));
	if (json_is_number(p))
		printf("percent      %.1f\n", json_number_value(p));
	else
		printf("percent      - (no survivor handled)\n");
	printf("\n  %-14s %10s %12s %8s\n", "age group", "numerator",
	    "denominator", "percent");
	json_object_foreach (
	    (json_t *)json_object_get(j, "by_age_group"), k, cell)
		cell_print(k, cell);
	printf("\n  %-14s %10s %12s %8s\n", "violence", "numerator",
	    "denominator", "percent");
	json_object_foreach (
	    (json_t *)json_object_get(j, "by_violence"), k, cell)
		cell_print(k, cell);
	printf("\n* suppressed: a small count that could point at someone\n");
}

int
cmd_report_indicator(struct cli *c)
{
	json_t *out;
	int r;

	/* Which years there can be is the library's to say (CV_EINVAL). */
	if (cli_number(c->opt[OPT_YEAR]) == 0)
		return cli_usage(c, "--year YEAR, a number, is required");
	if (c->opt[OPT_CSV] != NULL && c->json)
		return cli_usage(c, "--csv and --json exclude each other");
	cli_arg_num(c, "year", cli_number(c->opt[OPT_YEAR]));
	if ((r = cli_run(c, NULL, &out)) == 0 && c->opt[OPT_CSV] != NULL)
		r = csv_of(&out);
	return cli_result(c, r, out, indicator_print);
}
