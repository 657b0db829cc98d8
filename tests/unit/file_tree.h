/* file_tree.h: fake files for unit tests that read the system's (cgroup
 * files, /proc): a file written under a temporary root, with the
 * directories it needs. */
#ifndef CORRAL_TEST_FILE_TREE_H
#define CORRAL_TEST_FILE_TREE_H

/* Writes ROOT/relative with `content`, creating its directories; fails
 * the test if it cannot. */
void file_tree_put(const char *root, const char *relative, const char *content);

#endif
