/* Per-operator profiling hooks used by generated model code.  Empty unless the firmware is built with
 * TH_PROFILE_OPS, in which case the firmware provides th_profile_op_begin/end (timer reads per operator). */
#ifndef TH_PROFILE_H
#define TH_PROFILE_H

#ifdef TH_PROFILE_OPS
void th_profile_op_begin(int op_index);
void th_profile_op_end(int op_index);
#define TH_OP_BEGIN(i) th_profile_op_begin(i)
#define TH_OP_END(i) th_profile_op_end(i)
#else
#define TH_OP_BEGIN(i) ((void)0)
#define TH_OP_END(i) ((void)0)
#endif

#endif /* TH_PROFILE_H */
