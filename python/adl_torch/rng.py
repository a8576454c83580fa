"""The seeded generators of the TypeScript side, bit for bit: mulberry32 (@adl/backend `Rng`,
@adl/data-cityscapes `SeededRandom`) and the seeds they are started from."""

MASK = 0xFFFFFFFF


def imul(a, b):
    """Math.imul: the low 32 bits of the product, unsigned."""
    return (a * b) & MASK


class Mulberry32:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        """Uniform in [0, 1)."""
        self.state = (self.state + 0x6D2B79F5) & MASK
        t = self.state
        t = imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + imul(t ^ (t >> 7), t | 61)) & MASK)) & MASK
        return ((t ^ (t >> 14)) & MASK) / 4294967296

    def uniform(self, low, high):
        return low + (high - low) * self.next()

    def int(self, n):
        """Integer in [0, n)."""
        return int(self.next() * n)

    def shuffle(self, items):
        """Fisher–Yates shuffle of a copy."""
        out = list(items)
        for i in range(len(out) - 1, 0, -1):
            j = self.int(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


def drop_path_rng(step_seed, cell, op):
    """The generator of one op's drop-path mask at one step (@adl/cell `dropPathRng`)."""
    seed = (imul(step_seed ^ 0x9E3779B9, 0x85EBCA6B) + imul(cell + 1, 0xC2B2AE35) + imul(op + 1, 0x27D4EB2F)) & MASK
    return Mulberry32(seed)


def stream_seed(seed, epoch, index):
    """The seed of one sample's augmentation, or of an epoch's order with index -1 (@adl/data-cityscapes `BatchLoader`)."""
    h = (seed ^ 0x9E3779B9) & MASK
    for value in (epoch, index):
        h = imul(h ^ (value & MASK), 0x85EBCA6B)
        h = (h ^ (h >> 13)) & MASK
    return h


def drop_path_step_seed(seed, iteration):
    """The seed of a retraining step's drop-path masks (@adl/search `withDropPath`)."""
    return (seed * 0x9E3779B1 + iteration) & MASK
