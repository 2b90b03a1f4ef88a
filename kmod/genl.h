/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _WEFT_GENL_H
#define _WEFT_GENL_H

int weft_genl_init(void);
void weft_genl_uninit(void);

#endif /* _WEFT_GENL_H */
