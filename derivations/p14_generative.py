"""Part 14 of the sheet: VAE, GAN and diffusion models."""

import sympy as sp
import sympy.stats
from sympy.stats import Expectation, Normal

from symml.catalog.declare import Part
from symml.catalog.domains import nonnegative, positive, real, unit_open
from symml.catalog.model import Convention, Notation, Property, Reading, Status


def DataDistribution(name, density):
    """A real random variable with an unspecified density (the data distribution)."""
    value = sp.Symbol(name)
    return sympy.stats.ContinuousRV(value, density(value), sp.Interval(-sp.oo, sp.oo))


P = Part(14, "Generative models")

P.section("vae")  # the expectation and the KL term are recorded as opaque scalars
L = P.scalar("L", real, meaning="the sheet's L for the VAE (the ELBO)")
E_log_px_z = P.scalar(
    "E_log_px_z",
    real,
    meaning="reconstruction term E_{z~q(z|x)}[log p(x|z)] (real: a density's log can be positive)",
)
D_KL = P.scalar(
    "D_KL", nonnegative, meaning="D_KL(q(z|x) || p(z)), the KL of the encoder from the prior"
)
mu = P.scalar("mu", real, meaning="encoder mean μ (one latent coordinate)")
sigma = P.scalar("sigma", positive, meaning="encoder standard deviation σ (not the sigmoid)")
epsilon = P.random("epsilon", Normal, 0, 1, meaning="standard normal noise ε")
z = P.scalar("z", real, meaning="latent sample (one coordinate)")

P.formula(
    "vae.loss",
    "VAE objective (ELBO)",
    sheet="L = E[log p(x|z)] - D_KL(q(z|x)||p(z))",
    expr=E_log_px_z - D_KL,
    lhs=L,
    notes=(
        "E[log p(x|z)] and D_KL(q(z|x)||p(z)) are declared scalars: the entry records the "
        "structure reconstruction − KL, not the densities.",
    ),
    claims=[
        Notation(
            sheet="L = E[log p(x|z)] - D_KL(q(z|x)||p(z))",
            expected=Status.AMBIGUOUS,
            correction=-E_log_px_z + D_KL,
            note="This L is the ELBO, which training maximises, while every other L on the sheet "
            "is a loss to minimise; as a loss the VAE uses −ELBO = −E[log p(x|z)] + D_KL.",
            readings=(
                Reading(
                    "L is the ELBO, to be maximised",
                    -(E_log_px_z - D_KL),
                    None,
                    note="written as the quantity training minimises: −L",
                ),
                Reading(
                    "L is a loss to minimise (as every other L on the sheet)",
                    E_log_px_z - D_KL,
                    False,
                    note="written as the quantity training minimises: L",
                ),
            ),
        ),
    ],
    conventions=(
        Convention(
            "PyTorch",
            "the official VAE example minimises "
            "BCE(recon_x, x, reduction='sum') + KLD, i.e. −ELBO.",
        ),
    ),
)
P.formula(
    "vae.reparameterization",
    "Reparameterization trick",
    sheet="z = μ + σ·ε  where ε ~ N(0,1)",
    expr=mu + sigma * epsilon,
    lhs=z,
    notes=("Per latent coordinate; σ is the encoder's standard deviation.",),
    claims=[
        Property(
            sheet="z = μ + σ·ε  where ε ~ N(0,1)",
            predicate="expectation",
            params=(("value", mu),),
            note="The trick gives z ~ N(μ, σ²).",
        ),
        Property(
            sheet="z = μ + σ·ε  where ε ~ N(0,1)",
            predicate="variance",
            params=(("value", sigma**2),),
            note="The trick gives z ~ N(μ, σ²).",
        ),
    ],
    conventions=(
        Convention("PyTorch", "VAE code usually predicts logvar and uses σ = exp(0.5·logvar)."),
    ),
)

P.section("gan")  # one latent coordinate z and one data value x, as random scalars
p_data = P.function("p_data", domain=nonnegative, meaning="the (unknown) data density")
D = P.function("D", domain=unit_open, meaning="discriminator: probability that its input is real")
G = P.function("G", meaning="generator: maps latent noise to a sample")
z = P.random(
    "z",
    Normal,
    0,
    1,
    meaning="latent noise (the sheet does not state the prior; the standard normal is usual)",
)
x = P.random("x", DataDistribution, p_data, meaning="a real data sample, x ~ p_data")
L_G = P.scalar("L_G", nonnegative, meaning="generator loss")
L_D = P.scalar("L_D", nonnegative, meaning="discriminator loss")

P.formula(
    "gan.generator_loss",
    "GAN generator loss",
    sheet="L_G = -E[log D(G(z))]",
    expr=-Expectation(sp.log(D(G(z)))),
    lhs=L_G,
    notes=("E[·] is sympy.stats.Expectation, left unevaluated since D and G are unspecified.",),
    conventions=(
        Convention(
            "paper",
            "This is the non-saturating generator loss; Goodfellow et "
            "al. 2014's minimax game has the generator minimise "
            "E[log(1 − D(G(z)))] and suggest −E[log D(G(z))] as a practical "
            "replacement with stronger early gradients.",
        ),
    ),
)
P.formula(
    "gan.discriminator_loss",
    "GAN discriminator loss",
    sheet="L_D = -E[log D(x)] - E[log(1 - D(G(z)))]",
    expr=-Expectation(sp.log(D(x))) - Expectation(sp.log(1 - D(G(z)))),
    lhs=L_D,
    notes=("The first expectation is over x ~ p_data, the second over z ~ N(0, 1).",),
    conventions=(
        Convention(
            "PyTorch",
            "usually computed as nn.BCELoss (or BCEWithLogitsLoss) "
            "with target 1 on real and 0 on generated samples, averaged over "
            "the batch.",
        ),
    ),
)

P.section("diffusion")  # per coordinate: the covariances βₜI and Σθ are read as diagonal
t = P.index("t", meaning="diffusion step")
beta_t = P.scalar("beta_t", unit_open, meaning="noise variance βₜ of step t")
x_t = P.scalar("x_t", real, meaning="one coordinate of xₜ")
x_prev = P.scalar("x_prev", real, meaning="one coordinate of xₜ₋₁")
epsilon = P.random("epsilon", Normal, 0, 1, meaning="forward-process noise")
z = P.random("z", Normal, 0, 1, meaning="reverse-process noise (z in DDPM's sampling algorithm)")
mu_theta = P.function("mu_theta", meaning="learned mean μθ(xₜ, t)")
Sigma_theta = P.function(
    "Sigma_theta",
    domain=positive,
    meaning="learned variance Σθ(xₜ, t) of one coordinate (diagonal covariance)",
)

P.formula(
    "diffusion.forward",
    "Diffusion forward process",
    sheet="q(xₜ|xₜ₋₁) = N(xₜ; √(1-βₜ)xₜ₋₁, βₜI)",
    expr=sp.sqrt(1 - beta_t) * x_prev + sp.sqrt(beta_t) * epsilon,
    lhs=x_t,
    notes=(
        "Recorded as the sample xₜ = √(1−βₜ)xₜ₋₁ + √βₜ·ε per coordinate, ε ~ N(0, 1): N's "
        "second argument here is the covariance βₜI, so the std is √βₜ.",
    ),
)
P.formula(
    "diffusion.reverse",
    "Diffusion reverse process",
    sheet="p(xₜ₋₁|xₜ) = N(xₜ₋₁; μθ(xₜ,t), Σθ(xₜ,t))",
    expr=mu_theta(x_t, t) + sp.sqrt(Sigma_theta(x_t, t)) * z,
    lhs=x_prev,
    notes=(
        "Recorded as the sample xₜ₋₁ = μθ(xₜ, t) + √Σθ(xₜ, t)·z per coordinate, z ~ N(0, 1); "
        "Σθ is a covariance, so its square root is the std.",
    ),
    conventions=(
        Convention(
            "paper",
            "DDPM (Ho et al. 2020) fixes Σθ = σₜ²I (σₜ² = βₜ or β̃ₜ) "
            "instead of learning it; Nichol & Dhariwal 2021 learn it.",
        ),
    ),
)
