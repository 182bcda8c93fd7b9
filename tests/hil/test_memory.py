"""Whether ACDNet-20 fits each board; where it does not, the refusal names the region and the overflow."""

from __future__ import annotations

from harness.build import DEFAULT_HEAP_BYTES, DEFAULT_STACK_BYTES


def test_acdnet20_fits_or_the_linker_says_which_region_overflows(tinyhil_board, acdnet20_build, tinyhil_firmware,
                                                                 acdnet20):
    fw, refusal = acdnet20_build
    image = fw.image if fw else None
    arena = tinyhil_firmware.compiled(acdnet20).plan.arena_bytes  # tinyhil's own plan; a TFLM backend sizes its own:
    if tinyhil_firmware.backend.value != "tinyhil":
        from harness.backends.tflm_model import host_arena_bytes

        arena = host_arena_bytes(acdnet20.read_bytes())
    needed = arena + DEFAULT_STACK_BYTES + DEFAULT_HEAP_BYTES  # lower bound of the RAM it needs
    if needed <= tinyhil_board.ram_bytes:
        assert refusal is None, str(refusal)
        assert needed <= image.sizes["ram"] <= tinyhil_board.ram_bytes
    else:
        assert image is None and refusal is not None
        assert refusal.board == tinyhil_board.name and refusal.region == "RAM"
        assert tinyhil_board.ram_bytes + refusal.overflow_bytes >= needed  # the overflow covers the shortfall
        assert str(refusal) == (f"model does not fit {tinyhil_board.name}: region RAM overflowed by "
                                f"{refusal.overflow_bytes} bytes; use a smaller model variant or a board "
                                "with more memory")
        print(f"\n{tinyhil_board.name}: {refusal}")
