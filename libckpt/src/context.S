/* ckpt_save_context(ThreadContext*): records the callee-saved registers, the
 * stack pointer and the return address, like setjmp but without pointer
 * mangling, so the freestanding restorer can resume the thread here.
 * Returns 0 when saving; a resumed thread returns 1 (see restore/restorer.c).
 * Field offsets follow ckpt::image::ThreadContext. */
        .text
        .globl  ckpt_save_context
        .hidden ckpt_save_context
        .type   ckpt_save_context, @function
ckpt_save_context:
        .cfi_startproc
        movq    %rbx, 0(%rdi)
        movq    %rbp, 8(%rdi)
        movq    %r12, 16(%rdi)
        movq    %r13, 24(%rdi)
        movq    %r14, 32(%rdi)
        movq    %r15, 40(%rdi)
        leaq    8(%rsp), %rdx
        movq    %rdx, 48(%rdi)
        movq    (%rsp), %rdx
        movq    %rdx, 56(%rdi)
        stmxcsr 64(%rdi)
        fnstcw  68(%rdi)
        xorl    %eax, %eax
        ret
        .cfi_endproc
        .size   ckpt_save_context, .-ckpt_save_context
        .section .note.GNU-stack,"",@progbits
