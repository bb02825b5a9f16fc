# fcc Cu on the shipped cu-emt potential: NVT at 300 K, then NVE.
#   mpirun -np 2 equiforce lammps examples/lammps/in.cu --potential cu-emt --elements Cu
# Optional: -var / --var N 6 (cells per side: 4 N^3 atoms), --var steps 200 (per stage).
variable        N     index 6
variable        steps index 200

units           metal
atom_style      atomic
boundary        p p p
lattice         fcc 3.61
region          box block 0 ${N} 0 ${N} 0 ${N}
create_box      1 box
create_atoms    1 box
mass            1 63.546

velocity        all create 600.0 4928459 loop geom
timestep        0.002
thermo_style    custom step temp pe ke etotal press vol
thermo          20

fix             thermostat all nvt temp 300.0 300.0 0.1
run             ${steps}
unfix           thermostat

fix             integrate all nve
run             ${steps}
