//! `#[derive(Differentiable)]` on nested, generic and partly constant
//! structs.

use causalgrad::{Differentiable, Dual, Real, Tangent};

/// An inner block of parameters.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct Layer {
    pub bias: f64,
    pub weights: [f64; 2],
}

/// Parameters with arrays, nested arrays, a nested derived struct and a
/// constant field.
#[derive(Differentiable, Clone, Debug, PartialEq)]
pub struct Model {
    pub scale: f64,
    pub w: [f64; 16],
    pub pairs: [[f64; 2]; 16],
    pub layer: Layer,
    #[no_diff]
    pub steps: usize,
    pub tail: Vec<f64>,
}

fn model() -> Model {
    Model {
        scale: 0.5,
        w: core::array::from_fn(|i| i as f64),
        pairs: core::array::from_fn(|i| [i as f64, -(i as f64)]),
        layer: Layer {
            bias: 3.0,
            weights: [4.0, 5.0],
        },
        steps: 7,
        tail: vec![1.0, 2.0, 3.0],
    }
}

fn flat<G: Tangent>(g: &G) -> Vec<G::Scalar> {
    let mut out = Vec::new();
    g.for_each_scalar(&mut |x| out.push(x));
    out
}

fn flat_params<P: Differentiable>(p: &mut P) -> Vec<<P::Tangent as Tangent>::Scalar> {
    let mut out = Vec::new();
    Differentiable::for_each_scalar_mut(p, &mut |x| out.push(*x));
    out
}

#[test]
fn tangent_has_the_same_field_names_and_shapes() {
    let m = model();
    let g: ModelTangent = m.zero_tangent();
    // A struct literal with exactly these fields compiles: same names, no
    // `steps`.
    let ModelTangent {
        scale,
        w,
        pairs,
        layer: LayerTangent { bias, weights },
        tail,
    } = g.clone();
    assert_eq!(scale, 0.0);
    assert_eq!(w, [0.0; 16]);
    assert_eq!(pairs, [[0.0; 2]; 16]);
    assert_eq!((bias, weights), (0.0, [0.0; 2]));
    assert_eq!(tail, vec![0.0; 3]);
    assert_eq!(g.num_scalars(), 1 + 16 + 32 + 3 + 3);
    assert_eq!(g.zero_like().num_scalars(), g.num_scalars());
    let debug = format!("{g:?}");
    assert!(
        debug.starts_with("ModelTangent { scale: 0.0, w: ["),
        "{debug}"
    );
    assert!(debug.contains("layer: LayerTangent { bias: 0.0, weights: [0.0, 0.0] }"));
    assert!(!debug.contains("steps"));
}

#[test]
fn scalars_are_visited_in_field_order() {
    let mut m = model();
    let expected: Vec<f64> = [m.scale]
        .into_iter()
        .chain(m.w)
        .chain(m.pairs.iter().flatten().copied())
        .chain([m.layer.bias])
        .chain(m.layer.weights)
        .chain(m.tail.iter().copied())
        .collect();
    assert_eq!(flat_params(&mut m), expected);

    // The tangent visits its scalars in the same order.
    let mut g = m.zero_tangent();
    let mut k = 0.0;
    Tangent::for_each_scalar_mut(&mut g, &mut |x| {
        *x = k;
        k += 1.0;
    });
    assert_eq!(g.scale, 0.0);
    assert_eq!(g.w[15], 16.0);
    assert_eq!(g.pairs[0], [17.0, 18.0]);
    assert_eq!(g.layer.bias, 49.0);
    assert_eq!(g.layer.weights, [50.0, 51.0]);
    assert_eq!(g.tail, vec![52.0, 53.0, 54.0]);
    assert_eq!(flat(&g), (0..55).map(f64::from).collect::<Vec<_>>());
}

#[test]
fn accumulate_scale_and_operators() {
    let m = model();
    let mut ones = m.zero_tangent();
    Tangent::for_each_scalar_mut(&mut ones, &mut |x| *x = 1.0);

    let mut g = m.zero_tangent();
    g.accumulate(ones.clone());
    g.accumulate(ones.clone());
    g.scale(1.5);
    assert!(flat(&g).iter().all(|&x| x == 3.0));

    let h = g.clone() + ones.clone() * 2.0;
    assert!(flat(&h).iter().all(|&x| x == 5.0));
    let mut k = ones.clone();
    k += h;
    assert!(flat(&k).iter().all(|&x| x == 6.0));
    assert_eq!(k.layer.weights, [6.0, 6.0]);
}

#[test]
fn move_along_updates_parameters_and_skips_no_diff_fields() {
    let mut m = model();
    let before = m.clone();
    let mut step = m.zero_tangent();
    Tangent::for_each_scalar_mut(&mut step, &mut |x| *x = 0.25);
    step.layer.bias = -1.0;
    m.move_along(&step);
    assert_eq!(m.steps, 7);
    assert_eq!(m.scale, 0.75);
    assert_eq!(m.w[3], 3.25);
    assert_eq!(m.pairs[2], [2.25, -1.75]);
    assert_eq!(m.layer.bias, 2.0);
    assert_eq!(m.layer.weights, [4.25, 5.25]);
    assert_eq!(m.tail, vec![1.25, 2.25, 3.25]);

    // Gradient descent on ‖params‖² / 2 (gradient = params) shrinks every
    // differentiable scalar and leaves `steps` alone.
    let mut p = before;
    for _ in 0..3 {
        let mut grad = p.zero_tangent();
        let mut values = flat_params(&mut p).into_iter();
        Tangent::for_each_scalar_mut(&mut grad, &mut |g| *g = values.next().unwrap());
        grad.scale(-0.5);
        p.move_along(&grad);
    }
    assert_eq!(p.steps, 7);
    assert_eq!(p.scale, 0.5 / 8.0);
    assert_eq!(p.layer.weights, [0.5, 0.625]);
}

/// A generic parameter block.
#[derive(Differentiable, Debug)]
struct P<T: Real> {
    a: T,
    w: [T; 3],
    #[no_diff]
    label: &'static str,
}

fn generic_roundtrip<T: Real + Differentiable<Tangent = T> + Tangent<Scalar = T>>(
) -> (P<T>, PTangent<T>) {
    let mut p = P {
        a: T::from_f64(1.0),
        w: [T::from_f64(2.0), T::from_f64(3.0), T::from_f64(4.0)],
        label: "p",
    };
    let mut g = p.zero_tangent();
    g.a = T::from_f64(0.5);
    g.w[1] = T::from_f64(-1.0);
    let g = g * T::from_f64(2.0);
    p.move_along(&g);
    (p, g)
}

#[test]
fn generic_struct_at_f32_and_f64() {
    let (p, g) = generic_roundtrip::<f64>();
    assert_eq!((p.a, p.w, p.label), (2.0, [2.0, 1.0, 4.0], "p"));
    assert_eq!(flat(&g), [1.0, 0.0, -2.0, 0.0]);
    let _: f64 = <PTangent<f64> as Tangent>::Scalar::default();

    let (p, g) = generic_roundtrip::<f32>();
    assert_eq!((p.a, p.w), (2.0f32, [2.0f32, 1.0, 4.0]));
    assert_eq!(g.num_scalars(), 4);
    let scalars: Vec<f32> = flat(&g);
    assert_eq!(scalars, [1.0f32, 0.0, -2.0, 0.0]);
}

/// A generic parameter used only by a constant field, a lifetime, a const
/// parameter and a `where` clause.
#[derive(Differentiable)]
struct Odd<'a, T: Real, U, const N: usize>
where
    U: Clone,
{
    x: [T; N],
    y: f64,
    #[no_diff]
    tag: &'a U,
}

#[test]
fn unused_generic_parameters_and_where_clauses() {
    let tag = String::from("odd");
    let mut odd: Odd<'_, f64, String, 2> = Odd {
        x: [1.0, 2.0],
        y: 3.0,
        tag: &tag,
    };
    let mut g = odd.zero_tangent();
    g.x = [1.0, 1.0];
    g.y = 1.0;
    odd.move_along(&g);
    assert_eq!((odd.x, odd.y, odd.tag.as_str()), ([2.0, 3.0], 4.0, "odd"));
    assert_eq!(flat(&g), [1.0, 1.0, 1.0]);
}

/// Raw identifiers and a struct nested in a `Vec`.
#[derive(Differentiable)]
struct Net {
    r#type: f32,
    layers: Vec<Unit>,
}

#[derive(Differentiable)]
struct Unit {
    gain: f32,
}

#[test]
fn vec_of_structs_and_raw_identifiers() {
    let mut net = Net {
        r#type: 1.0,
        layers: vec![Unit { gain: 2.0 }, Unit { gain: 3.0 }],
    };
    let g = net.zero_tangent();
    assert_eq!(g.layers.len(), 2);
    assert_eq!(
        format!("{g:?}"),
        "NetTangent { type: 0.0, layers: [UnitTangent { gain: 0.0 }, UnitTangent { gain: 0.0 }] }"
    );
    let mut step = g.zero_like();
    step.r#type = 0.5;
    step.layers[1].gain = -1.0;
    net.move_along(&step);
    assert_eq!(net.r#type, 1.5);
    assert_eq!(net.layers[1].gain, 2.0);
    assert_eq!(flat_params(&mut net), [1.5f32, 2.0, 2.0]);
}

/// The tangent of a struct takes the struct's visibility; it is usable from
/// another module.
mod inner {
    use causalgrad::Differentiable;

    #[derive(Differentiable)]
    pub(crate) struct Hidden {
        pub(crate) v: f64,
    }
}

#[test]
fn tangent_follows_the_struct_visibility() {
    let h = inner::Hidden { v: 1.0 };
    let g: inner::HiddenTangent = h.zero_tangent();
    assert_eq!(g.v, 0.0);
}

/// A generic struct nesting another generic derived struct.
#[derive(Differentiable)]
struct Outer<T: Real> {
    inner: P<T>,
    c: T,
    layers: Vec<[T; 2]>,
}

fn outer<T: Real>() -> Outer<T> {
    Outer {
        inner: P {
            a: T::one(),
            w: [T::one(); 3],
            label: "inner",
        },
        c: T::from_f64(2.0),
        layers: vec![[T::zero(); 2]; 2],
    }
}

/// Code generic over the scalar needs the scalar to be its own tangent.
fn descend<T>(o: &mut Outer<T>, rate: T)
where
    T: Real + Differentiable<Tangent = T> + Tangent<Scalar = T>,
{
    let mut grad = o.zero_tangent();
    Tangent::for_each_scalar_mut(&mut grad, &mut |g| *g = T::one());
    o.move_along(&(grad * -rate));
}

#[test]
fn nested_generic_structs() {
    let mut o = outer::<f64>();
    assert_eq!(o.zero_tangent().num_scalars(), 1 + 3 + 1 + 4);
    descend(&mut o, 0.5);
    assert_eq!(
        flat_params(&mut o),
        [0.5, 0.5, 0.5, 0.5, 1.5, -0.5, -0.5, -0.5, -0.5]
    );
    assert_eq!(o.inner.label, "inner");

    let mut o = outer::<f32>();
    descend(&mut o, 0.25);
    assert_eq!(o.c, 1.75f32);
}

#[test]
fn dual_parameters() {
    // Parameters of dual numbers carry a derivative along with each value
    // (forward over reverse through a parameter struct).
    let (p, g) = generic_roundtrip::<Dual<f64>>();
    assert_eq!(p.a, Dual::new(2.0, 0.0));
    assert_eq!(g.w[1], Dual::new(-2.0, 0.0));
    let mut o = outer::<Dual<f64>>();
    descend(&mut o, Dual::new(0.5, 1.0));
    assert_eq!(o.c, Dual::new(1.5, -1.0));
}
