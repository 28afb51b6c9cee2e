/**
 * NIfTI-1 and NIfTI-2 images: reading (single files and .hdr/.img pairs, gzip, either byte order,
 * every scalar datatype) into `Volume`s, writing NIfTI-1 maps, and the grid check that refuses
 * images which must share a voxel grid but do not.
 *
 * Headers are parsed by nifti-reader-js on its synchronous path (`readHeader`; its async reader
 * hangs on some gzip files). The rest follows nibabel rather than nifti-reader-js, which differs in
 * three places: the affine is the sform when sform_code > 0, else the qform when qform_code > 0,
 * else nibabel's pixdim fallback (`get_base_affine`); scl_slope/scl_inter are applied (a slope of 0
 * or NaN means none); dims 5-7 are not dropped but folded into the volume axis (see `Volume.dims`).
 */
export * from './nifti-types';
export * from './nifti-read';
export * from './nifti-read-ahead';
export * from './nifti-grid';
export * from './nifti-write';
