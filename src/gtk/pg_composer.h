/* pg_composer.h - the composer: a multi-line text box (Enter sends, Shift+Enter a new line,
 * input methods such as fcitx and ibus keep Enter while they compose), the attach button
 * (file chooser), drag and drop of files and pasting of images, and upload progress with a
 * cancel button. What a line means (text~user, /msg, /join, /part) is pg_command.c's; the
 * window acts on it through the callbacks. */
#ifndef PG_COMPOSER_H
#define PG_COMPOSER_H

#include <stdbool.h>

#include <gtk/gtk.h>

struct pg_composer_ops {
	/* The user sent line (non-empty, trimmed of the final newline). */
	void (*submit)(void *ud, const char *line);
	/* A file to upload and send (a path, or a pasted image saved in the data dir). */
	void (*attach)(void *ud, const char *path);
	/* Esc in an empty composer. */
	void (*escape)(void *ud);
};

struct pg_composer;

struct pg_composer *pg_composer_new(const struct pg_composer_ops *ops, void *ud,
                                    const char *paste_dir);
GtkWidget *pg_composer_widget(struct pg_composer *c);
GtkWidget *pg_composer_text_view(struct pg_composer *c);
/* Files dropped on area (the composer's own box, the message list) are attached, a path each,
 * as the attach button does. */
void pg_composer_take_drops(struct pg_composer *c, GtkWidget *area);
/* Shows upload progress (fraction in 0..1; < 0 hides it); cancel is what the button
 * cancels (a ref is taken; NULL when hiding). */
void pg_composer_set_progress(struct pg_composer *c, double fraction, GCancellable *cancel);
/* The text typed so far (new string) and replacing it (tests, /msg pre-filling). */
char *pg_composer_get_text(struct pg_composer *c);
void pg_composer_set_text(struct pg_composer *c, const char *text);
/* Sends what is typed, as Enter does. */
void pg_composer_send(struct pg_composer *c);

/* A mode (editing a message, replying to one): banner says which above the text box (NULL
 * leaves the mode). Esc leaves it too, empties the text and calls ops.escape. */
void pg_composer_set_mode(struct pg_composer *c, const char *banner);
bool pg_composer_in_mode(struct pg_composer *c);

#endif
